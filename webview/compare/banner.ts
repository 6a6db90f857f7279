import { el } from '../shared/dom';
import { icon } from './widgets';

/** Errors from the extension, shown at the top until dismissed. */
export class ErrorBanner {
  readonly root = el('div', { class: 'banners', attrs: { role: 'alert', 'aria-live': 'assertive' } });

  show(message: string): void {
    const close = el(
      'button',
      { class: 'icon-button', title: 'Dismiss', attrs: { 'aria-label': 'Dismiss error' } },
      icon('close'),
    );
    const banner = el(
      'div',
      { class: 'banner error' },
      icon('error'),
      el('span', { class: 'banner-text', text: message }),
      close,
    );
    close.addEventListener('click', () => banner.remove());
    this.root.append(banner);
  }
}
