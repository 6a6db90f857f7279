import type { FromWebview } from '../../src/shared/compare/contract';

/**
 * Copies a chart to the clipboard as PNG. The canvas is transparent, so the image is painted on
 * the editor background first (else dark-theme text would vanish on a white page). Webviews often
 * lack clipboard access; then the extension is asked to save the image instead.
 */
export async function copyChartPng(
  key: string,
  canvas: HTMLCanvasElement,
  background: string,
  status: HTMLElement,
  post: (msg: FromWebview) => void,
): Promise<void> {
  const image = document.createElement('canvas');
  image.width = canvas.width;
  image.height = canvas.height;
  const g = image.getContext('2d');
  if (!g) return;
  g.fillStyle = background;
  g.fillRect(0, 0, image.width, image.height);
  g.drawImage(canvas, 0, 0);
  status.textContent = 'Copying…';
  try {
    const blob = await new Promise<Blob>((resolve, reject) =>
      image.toBlob((b) => (b ? resolve(b) : reject(new Error('no image'))), 'image/png'),
    );
    // A clipboard that never answers (no permission prompt in a webview) counts as unavailable.
    await Promise.race([
      navigator.clipboard.write([new ClipboardItem({ 'image/png': blob })]),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 5000)),
    ]);
    show(status, 'Copied');
  } catch {
    post({ type: 'savePng', payload: { key, dataUrl: image.toDataURL('image/png') } });
    show(status, 'Clipboard unavailable: saving as file…');
  }
}

function show(status: HTMLElement, text: string): void {
  status.textContent = text;
  setTimeout(() => {
    if (status.textContent === text) status.textContent = '';
  }, 3000);
}
