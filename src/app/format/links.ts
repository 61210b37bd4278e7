import type { ServingOwnerLinks } from '../../migration/index.js';

export function formatServing(links: Pick<ServingOwnerLinks, 'origin' | 'baseUrl'>): string {
  return `Serving links on ${links.origin} (links point at ${links.baseUrl})`;
}
