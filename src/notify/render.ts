import { Eta } from 'eta';
import type { Notice, NoticeKind } from './notice.js';
import { buildNoticePayload, type NoticePayload } from './payload.js';
import { builtinTemplatesDir, resolveTemplate } from './template-dirs.js';
import { buildNoticeView, type ViewOptions } from './view.js';

/** One notice in every form the channels need. */
export interface RenderedNotice {
  id: string;
  kind: NoticeKind;
  /** One line: whitespace (including any newline from a hostile name) is collapsed. */
  subject: string;
  text: string;
  html: string;
  payload: NoticePayload;
}

export interface NoticeRendererOptions extends ViewOptions {
  /**
   * The operator's override directory, normally `<configDir>/templates`. A file there shadows the built-in file of the
   * same name (`scheduled.txt.eta`, `layout.html.eta`, …). It need not exist.
   */
  overrideDir?: string;
  /** The built-in templates; found next to the package by default. */
  templatesDir?: string;
}

/** Renders notices from records with eta. Subject and text are not escaped; HTML is, by eta's autoEscape. */
export class NoticeRenderer {
  private readonly html: Eta;
  private readonly plain: Eta;
  private readonly viewOptions: ViewOptions;

  constructor(options: NoticeRendererOptions = {}) {
    const builtin = options.templatesDir ?? builtinTemplatesDir();
    const dirs = options.overrideDir ? [options.overrideDir, builtin] : [builtin];
    this.html = layeredEta(dirs, true);
    this.plain = layeredEta(dirs, false);
    this.viewOptions = { showHostNames: options.showHostNames, locale: options.locale };
  }

  render(notice: Notice): RenderedNotice {
    const view = buildNoticeView(notice, this.viewOptions);
    const subject = this.plain.render(`${notice.kind}.subject`, view).replace(/\s+/g, ' ').trim();
    const text = `${this.plain.render(`${notice.kind}.txt`, view).trimEnd()}\n`;
    const html = this.html.render(`${notice.kind}.html`, view);
    return {
      id: notice.id,
      kind: notice.kind,
      subject,
      text,
      html,
      payload: buildNoticePayload(view, { subject, text }),
    };
  }
}

/** Templates are read on every render (no cache) so an operator's edit applies without restarting `watch`. */
function layeredEta(dirs: readonly string[], autoEscape: boolean): Eta {
  const eta = new Eta({
    views: dirs[dirs.length - 1],
    autoEscape,
    autoTrim: false,
    cache: false,
    cacheFilepaths: false,
  });
  eta.resolvePath = (template: string) => resolveTemplate(template, dirs);
  return eta;
}
