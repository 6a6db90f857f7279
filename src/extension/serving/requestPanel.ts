import * as vscode from 'vscode';
import {
  EXAMPLE_NAME,
  generatedRequest,
  imageRequest,
  RegistryError,
  ServedModel,
  ServerProcess,
  takesImage,
  topClasses,
  versionLabels,
  VersionExample,
} from '../../core';
import { FromRequestPage, REQUEST_PAGE, RequestTarget, ToRequestPage } from '../../shared/request/contract';
import { tensorsPerLine } from '../../shared/request/snippets';
import { showError } from '../errors';
import { BasePanel } from '../panels/basePanel';
import { RegistryService } from '../registry/registryService';

/** The longest answer text the page gets (a big output tensor is cut; the curl snippet gives it all). */
const SHOWN_ANSWER_CHARS = 200_000;

/**
 * Try a served version: the request as JSON (typed, zeros, random, an image), Send, the answer with
 * latency and top classes, Save as Example, and the request as curl and Python. Requests go from the
 * extension host to the server over HTTP, as any client's would.
 */
export class RequestPanel extends BasePanel<FromRequestPage, ToRequestPage> {
  private static readonly open = new Map<string, RequestPanel>();
  private last: { request: VersionExample['request']; response: VersionExample['response'] } | undefined;
  private request = '';
  private labels: string[] | undefined;

  static show(service: RegistryService, extensionUri: vscode.Uri, d: ServerProcess, model: ServedModel): RequestPanel {
    const key = `${d.id} ${model.ref}`;
    const existing = RequestPanel.open.get(key);
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    const panel = BasePanel.createPanel(
      REQUEST_PAGE,
      `Request: ${model.name} v${model.version}`,
      vscode.ViewColumn.Active,
      {
        extensionUri,
      },
      true,
    );
    const p = new RequestPanel(panel, service, extensionUri, d, model);
    RequestPanel.open.set(key, p);
    p.track(new vscode.Disposable(() => RequestPanel.open.delete(key)));
    return p;
  }

  /** Every open panel (tests). */
  static all(): RequestPanel[] {
    return [...RequestPanel.open.values()];
  }

  private constructor(
    panel: vscode.WebviewPanel,
    private readonly service: RegistryService,
    extensionUri: vscode.Uri,
    readonly deployment: ServerProcess,
    readonly model: ServedModel,
  ) {
    super(panel, REQUEST_PAGE, { extensionUri });
    this.request = tensorsPerLine(generatedRequest(model.inputs, 'zeros'));
    void this.start();
  }

  get target(): RequestTarget {
    const { url = '', token } = this.deployment;
    const m = this.model;
    const pinned = m.ref === `${m.name}@v${m.version}`;
    const name = encodeURIComponent(m.name);
    return {
      url,
      // A pinned ref answers at its version; one following an alias at the model's name (whatever it points at now).
      endpoint: pinned ? `${url}/v2/models/${name}/versions/${m.version}/infer` : `${url}/v2/models/${name}/infer`,
      model: m.name,
      version: m.version,
      ref: m.ref,
      needsToken: !!token,
      inputs: m.inputs,
      outputs: m.outputs,
      takesImage: takesImage(m.inputs),
    };
  }

  /** The request as last sent or made (the page's text once it sends). */
  get currentRequest(): string {
    return this.request;
  }

  /** The answer last shown (tests). */
  lastAnswer: { status: number; body: unknown } | undefined;

  private async start(): Promise<void> {
    try {
      this.labels = await versionLabels(await this.service.get(), await this.version());
    } catch {
      this.labels = undefined; // labels are a nicety; the panel works without them
    }
    await this.post({ type: 'target', payload: { target: this.target, request: this.request } });
  }

  private async version() {
    return (await this.service.get()).resolve(`${this.model.name}@v${this.model.version}`);
  }

  protected async onPageReloaded(): Promise<void> {
    await this.post({ type: 'target', payload: { target: this.target, request: this.request } });
  }

  protected async handle(m: FromRequestPage): Promise<void> {
    switch (m.type) {
      case 'send':
        return this.send(m.payload.request);
      case 'generate':
        this.request = tensorsPerLine(generatedRequest(this.model.inputs, m.payload.kind));
        await this.post({ type: 'request', payload: { request: this.request } });
        return;
      case 'pickImage':
        return this.pickImage();
      case 'saveExample':
        return this.saveExample();
      case 'copy':
        await vscode.env.clipboard.writeText(m.payload.text);
        void vscode.window.setStatusBarMessage('$(check) Copied', 3000);
        return;
    }
  }

  protected override onHandleError(_m: FromRequestPage, e: unknown): void {
    void this.post({ type: 'error', payload: { message: (e as Error).message } });
    if (!(e instanceof RegistryError)) showError('Request panel', e);
  }

  /** Sends the request to the server and shows the answer (or why there is none). */
  async send(text: string): Promise<void> {
    this.request = text;
    let request: VersionExample['request'];
    try {
      request = JSON.parse(text) as VersionExample['request'];
    } catch (e) {
      await this.post({ type: 'error', payload: { message: `The request is not JSON: ${(e as Error).message}` } });
      return;
    }
    const d = this.deployment;
    if (d.status !== 'ready') {
      await this.post({
        type: 'error',
        payload: { message: `The server is ${d.status}; start it again from the Deployments view.` },
      });
      return;
    }
    const start = performance.now();
    let res: Response;
    try {
      res = await fetch(this.target.endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(d.token ? { Authorization: `Bearer ${d.token}` } : {}) },
        body: text,
        signal: AbortSignal.timeout(120_000),
      });
    } catch (e) {
      await this.post({ type: 'error', payload: { message: `No answer from ${d.url}: ${(e as Error).message}` } });
      return;
    }
    const body = await res.text();
    const ms = performance.now() - start;
    let parsed: unknown = body;
    try {
      parsed = JSON.parse(body);
    } catch {
      // not JSON (binary outputs): shown as text
    }
    this.lastAnswer = { status: res.status, body: parsed };
    const answer = parsed as { outputs?: unknown[]; model_version?: string };
    const ok = res.status === 200 && Array.isArray(answer?.outputs);
    this.last = ok ? { request, response: answer as VersionExample['response'] } : undefined;
    const shown = typeof parsed === 'string' ? parsed : tensorsPerLine(parsed);
    await this.post({
      type: 'answer',
      payload: {
        status: res.status,
        ms,
        text:
          shown.length > SHOWN_ANSWER_CHARS
            ? `${shown.slice(0, SHOWN_ANSWER_CHARS)}\n… (cut at ${SHOWN_ANSWER_CHARS} characters)`
            : shown,
        version: answer?.model_version,
        top: ok ? topClasses(answer, this.labels) : undefined,
        savable: ok,
      },
    });
  }

  private async pickImage(): Promise<void> {
    const [file] =
      (await vscode.window.showOpenDialog({
        title: `An image for ${this.model.name} v${this.model.version}`,
        canSelectMany: false,
        filters: { Images: ['png', 'jpg', 'jpeg'] },
      })) ?? [];
    if (!file) return;
    await this.useImage(file.fsPath);
  }

  /** The image as the version's input (tests call it without the dialog). */
  async useImage(file: string): Promise<void> {
    const registry = await this.service.get();
    const request = await imageRequest(registry, await this.version(), this.model.inputs[0], file);
    this.request = tensorsPerLine(request);
    await this.post({ type: 'request', payload: { request: this.request } });
  }

  /** Keeps the last request and answer as an example of the version that answered. */
  async saveExample(name?: string): Promise<void> {
    const last = this.last;
    if (!last)
      throw new RegistryError('Send a request that is answered first; an example keeps a request with its answer.');
    const version = String((last.response as { model_version?: string }).model_version ?? this.model.version);
    const ref = `${this.model.name}@v${version}`;
    const registry = await this.service.get();
    const v = await registry.resolve(ref);
    const taken = new Set((await registry.examples(v.id)).map((e) => e.name));
    name ??= await vscode.window.showInputBox({
      title: `Save as Example of ${ref}`,
      prompt: 'A name for this request and its answer; modelreg example replay sends it to another version later',
      value: `example-${taken.size + 1}`,
      validateInput: (s) =>
        EXAMPLE_NAME.test(s) ? undefined : "Up to 64 letters, digits, '.', '_' or '-', starting with a letter or digit",
    });
    if (!name) return;
    let replace = false;
    if (taken.has(name)) {
      const c = await vscode.window.showWarningMessage(
        `${ref} already has an example '${name}'.`,
        { modal: true },
        'Replace',
      );
      if (c !== 'Replace') return;
      replace = true;
    }
    await registry.saveExample(ref, { name, ...last }, { replace });
    await this.post({ type: 'saved', payload: { name, ref } });
    void vscode.window.showInformationMessage(
      `Saved example '${name}' of ${ref}. Check another version against it: modelreg example replay ${ref} --on ${this.model.name}@vN`,
    );
  }
}
