import { Eta } from 'eta';
import { builtinTemplatesDir, resolveTemplate } from './template-dirs.js';

export interface ActionPageView {
  action: 'reboot' | 'reschedule';
  vm: { name: string; uuid: string };
  deadline: { utc: string; local?: string };
  /** The zone the reschedule form's times are in. */
  zone: string;
  /** For the reschedule form: datetime-local values in `zone`. */
  window: { current: string; min: string; max: string; latestUtc: string };
  error?: string;
  operator?: string;
}

export interface ResultPageView {
  title: string;
  message: string;
  vm?: { name: string; uuid: string };
  operator?: string;
}

/** The self-service pages (templates/links/), HTML-escaped by eta; the operator's directory overrides files. */
export class LinkPages {
  private readonly eta: Eta;

  constructor(options: { templatesDir?: string; overrideDir?: string } = {}) {
    const builtin = options.templatesDir ?? builtinTemplatesDir();
    const dirs = options.overrideDir ? [options.overrideDir, builtin] : [builtin];
    this.eta = new Eta({ views: builtin, autoEscape: true, autoTrim: false, cache: false });
    this.eta.resolvePath = (template: string) => resolveTemplate(template, dirs);
  }

  action(view: ActionPageView): string {
    return this.eta.render('links/action.html', view);
  }

  result(view: ResultPageView): string {
    return this.eta.render('links/result.html', view);
  }
}
