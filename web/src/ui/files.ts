/**
 * The list of the user's files: newest first, a page at a time ("Load more" follows the API's cursor), each
 * with its status badge, the verdict's reasons in plain words, its facts, and the actions its status allows.
 * Files still being checked are polled with backoff; a status change re-renders the card and is announced.
 */

import { describeReason } from "../../../core/domain/reasons.ts";
import { type Api, ApiError, type FileView } from "../api.ts";
import { Backoff } from "../backoff.ts";
import { factsOf } from "../facts.ts";
import { isFinal, statusWords } from "../status.ts";
import { announce, h } from "./dom.ts";

const PREVIEW_IMAGES = new Set(["png", "jpg", "gif", "webp"]);

/** The file's name for screen readers only: a button shows "Delete" and is named "Delete report.pdf". */
const forName = (name: string, preposition = "") =>
  h("span", { class: "visually-hidden" }, ` ${preposition}${name}`);
const PAGE_SIZE = 20;

export class FileList {
  readonly element: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly more: HTMLButtonElement;
  private readonly message: HTMLParagraphElement;
  private readonly failure: HTMLDivElement;
  private readonly statusFilter: HTMLSelectElement;
  private readonly typeFilter: HTMLSelectElement;
  private readonly files = new Map<string, FileView>();
  private readonly pollers = new Map<string, { timer: ReturnType<typeof setTimeout>; backoff: Backoff }>();
  private cursor: string | null = null;
  private stopped = false;

  constructor(
    private readonly api: Api,
    private readonly confirm: (question: string, action: string) => Promise<boolean>,
  ) {
    this.statusFilter = h(
      "select",
      { id: "status-filter", onchange: () => void this.reload() },
      ...[
        ["", "All statuses"],
        ["PENDING", "Checking"],
        ["VERIFIED", "Verified"],
        ["REJECTED", "Rejected"],
        ["INFECTED", "Infected"],
        ["FAILED", "Failed"],
      ].map(([value, label]) => h("option", { value }, label)),
    );
    this.typeFilter = h(
      "select",
      { id: "type-filter", onchange: () => void this.reload() },
      h("option", { value: "" }, "All types"),
      ...["pdf", "png", "jpg", "gif", "webp", "txt", "csv", "json", "docx", "xlsx", "pptx", "zip"].map((t) =>
        h("option", { value: t }, t.toUpperCase()),
      ),
    );
    this.list = h("ul", { class: "files", "aria-labelledby": "files-heading" });
    this.message = h("p", { class: "list-message", role: "status" });
    this.failure = h("div", { class: "list-error", hidden: true });
    this.more = h(
      "button",
      { type: "button", class: "secondary", hidden: true, onclick: () => void this.loadMore() },
      "Load more",
    );
    this.element = h(
      "section",
      { class: "panel", "aria-labelledby": "files-heading" },
      h(
        "div",
        { class: "list-head" },
        h("h2", { id: "files-heading", tabindex: "-1" }, "Your files"),
        h(
          "div",
          { class: "filters" },
          h("label", { for: "status-filter" }, "Status"),
          this.statusFilter,
          h("label", { for: "type-filter" }, "Type"),
          this.typeFilter,
          h("button", { type: "button", class: "secondary", onclick: () => void this.reload() }, "Refresh"),
        ),
      ),
      this.message,
      this.failure,
      this.list,
      this.more,
    );
  }

  async reload(): Promise<void> {
    this.stopPolling();
    this.files.clear();
    this.list.replaceChildren();
    this.cursor = null;
    await this.loadMore();
  }

  async loadMore(): Promise<void> {
    this.more.disabled = true;
    this.failure.hidden = true;
    this.failure.replaceChildren();
    this.message.textContent = "Loading…";
    try {
      const page = await this.api.list({
        status: this.statusFilter.value || undefined,
        type: this.typeFilter.value || undefined,
        cursor: this.cursor ?? undefined,
        limit: PAGE_SIZE,
      });
      for (const file of page.files) this.upsert(file, "end");
      this.cursor = page.nextCursor;
      this.showEmpty();
    } catch (error) {
      this.message.textContent = "";
      this.showFailure(error);
    } finally {
      this.more.hidden = !this.cursor;
      this.more.disabled = false;
    }
  }

  private filtered(): boolean {
    return this.statusFilter.value !== "" || this.typeFilter.value !== "";
  }

  /** The empty list says why: nothing uploaded yet, or nothing under the chosen filter. */
  private showEmpty(): void {
    if (this.files.size > 0) {
      this.message.replaceChildren();
      return;
    }
    if (!this.filtered()) {
      this.message.replaceChildren("No files yet. Upload one above.");
      return;
    }
    this.message.replaceChildren(
      "No files match this filter. ",
      h(
        "button",
        {
          type: "button",
          class: "link",
          onclick: () => {
            this.statusFilter.value = "";
            this.typeFilter.value = "";
            void this.reload();
          },
        },
        "Show all files",
      ),
    );
  }

  /** A list that could not be loaded is not an empty one: say what failed, and offer to try again. */
  private showFailure(error: unknown): void {
    const firstPage = this.files.size === 0;
    const retry = h(
      "button",
      {
        type: "button",
        class: "secondary",
        onclick: () => void (firstPage ? this.reload() : this.loadMore()),
      },
      "Retry",
    );
    this.failure.replaceChildren(
      h(
        "p",
        { role: "alert" },
        `Could not load ${firstPage ? "your files" : "more files"}: ${error instanceof Error ? error.message : String(error)}`,
      ),
      retry,
    );
    this.failure.hidden = false;
  }

  /** A file just uploaded: put it first and follow it until its verdict. */
  async track(fileId: string): Promise<void> {
    try {
      this.upsert(await this.api.get(fileId), "start");
    } catch {
      this.upsert({ fileId, status: "PENDING" }, "start");
    }
    this.message.textContent = "";
  }

  stop(): void {
    this.stopped = true;
    this.stopPolling();
  }

  private stopPolling(): void {
    for (const poller of this.pollers.values()) clearTimeout(poller.timer);
    this.pollers.clear();
  }

  private upsert(file: FileView, where: "start" | "end"): void {
    const previous = this.files.get(file.fileId);
    this.files.set(file.fileId, file);
    const card = this.card(file);
    const existing = this.list.querySelector<HTMLLIElement>(`li[data-file-id="${CSS.escape(file.fileId)}"]`);
    if (existing) {
      const hadFocus = existing.contains(document.activeElement);
      existing.replaceWith(card);
      if (hadFocus) card.querySelector<HTMLElement>("h3")?.focus();
    } else if (where === "start") this.list.prepend(card);
    else this.list.append(card);
    if (previous && previous.status !== file.status) {
      announce(
        `${file.name ?? file.fileId}: ${statusWords(file.status).label}. ${statusWords(file.status).summary}`,
      );
    }
    if (!isFinal(file.status)) this.schedule(file.fileId);
    else this.pollers.delete(file.fileId);
  }

  private schedule(fileId: string): void {
    if (this.stopped) return;
    const poller = this.pollers.get(fileId) ?? { timer: setTimeout(() => {}, 0), backoff: new Backoff() };
    clearTimeout(poller.timer);
    poller.timer = setTimeout(() => void this.poll(fileId), poller.backoff.next());
    this.pollers.set(fileId, poller);
  }

  private async poll(fileId: string): Promise<void> {
    if (this.stopped || !this.files.has(fileId)) return;
    try {
      const file = await this.api.get(fileId);
      if (file.status !== this.files.get(fileId)?.status) this.pollers.get(fileId)?.backoff.reset();
      this.upsert(file, "end");
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return this.drop(fileId);
      this.schedule(fileId);
    }
  }

  private drop(fileId: string): void {
    clearTimeout(this.pollers.get(fileId)?.timer);
    this.pollers.delete(fileId);
    this.files.delete(fileId);
    this.list.querySelector(`li[data-file-id="${CSS.escape(fileId)}"]`)?.remove();
  }

  private card(file: FileView): HTMLLIElement {
    const words = statusWords(file.status);
    const name = file.name ?? file.fileId;
    const reasons = (file.reasons ?? []).map(describeReason).filter(Boolean);
    const facts = factsOf(file);
    const verified = file.status === "VERIFIED";
    const typeId = file.detectedType?.id ?? "";
    const previewable = verified && (PREVIEW_IMAGES.has(typeId) || typeId === "pdf");
    const preview = h("div", { class: "preview" });
    const actionError = h("p", { class: "error", role: "alert" });

    const actions = h(
      "div",
      { class: "actions" },
      previewable &&
        h(
          "button",
          {
            type: "button",
            class: "secondary",
            "aria-expanded": "false",
            onclick: (e: Event) =>
              void this.preview(file, preview, e.currentTarget as HTMLButtonElement, actionError),
          },
          "Preview",
          forName(name),
        ),
      verified &&
        h(
          "button",
          { type: "button", onclick: () => void this.download(file, actionError) },
          "Download",
          forName(name),
        ),
      isFinal(file.status) &&
        h(
          "button",
          { type: "button", class: "danger", onclick: () => void this.remove(file, actionError) },
          "Delete",
          forName(name),
        ),
    );

    return h(
      "li",
      { class: "file", "data-file-id": file.fileId, "data-status": file.status },
      h(
        "article",
        { "aria-labelledby": `name-${file.fileId}` },
        h(
          "header",
          { class: "file-head" },
          h("h3", { id: `name-${file.fileId}`, tabindex: "-1" }, name),
          h("span", { class: `badge badge-${words.tone}`, "data-status": file.status }, words.label),
        ),
        h("p", { class: "summary" }, words.summary),
        reasons.length > 0 &&
          h(
            "div",
            { class: "reasons" },
            h("h4", {}, "Why"),
            h("ul", {}, ...reasons.map((r) => h("li", {}, r))),
          ),
        facts.length > 0 &&
          h(
            "dl",
            { class: "facts" },
            ...facts.flatMap((f) =>
              f.long
                ? [
                    h("dt", {}, f.label),
                    h("dd", {}, h("details", {}, h("summary", {}, "Show"), h("pre", {}, f.value))),
                  ]
                : [
                    h("dt", {}, f.label),
                    h("dd", { class: f.label === "SHA-256" ? "mono" : undefined }, f.value),
                  ],
            ),
          ),
        file.createdAt && h("p", { class: "meta" }, `Uploaded ${new Date(file.createdAt).toLocaleString()}`),
        actions,
        actionError,
        preview,
      ),
    );
  }

  private async preview(file: FileView, into: HTMLElement, button: HTMLButtonElement, error: HTMLElement) {
    if (into.childElementCount > 0) {
      into.replaceChildren();
      button.setAttribute("aria-expanded", "false");
      button.replaceChildren("Preview", forName(file.name ?? file.fileId));
      return;
    }
    error.textContent = "";
    try {
      const { url } = await this.api.downloadUrl(file.fileId, true);
      const name = file.name ?? file.fileId;
      // Images render as pixels only. PDFs go to a cross-origin frame on the storage origin, which the page's
      // CSP (frame-src) names; Chromium's PDF viewer refuses to run in a sandboxed frame, so it is not sandboxed.
      into.replaceChildren(
        file.detectedType?.id === "pdf"
          ? h("iframe", {
              src: url,
              title: `Preview of ${name}`,
              referrerpolicy: "no-referrer",
              loading: "lazy",
            })
          : h("img", { src: url, alt: `Preview of ${name}`, referrerpolicy: "no-referrer" }),
      );
      button.setAttribute("aria-expanded", "true");
      button.replaceChildren("Hide preview", forName(name, "of "));
    } catch (e) {
      error.textContent = `Preview failed: ${e instanceof Error ? e.message : e}`;
    }
  }

  private async download(file: FileView, error: HTMLElement) {
    error.textContent = "";
    try {
      const { url } = await this.api.downloadUrl(file.fileId);
      // The URL answers with Content-Disposition: attachment, so following it saves the file and stays here.
      const link = h("a", { href: url, download: file.name ?? "", rel: "noopener", hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
    } catch (e) {
      error.textContent = `Download failed: ${e instanceof Error ? e.message : e}`;
    }
  }

  private async remove(file: FileView, error: HTMLElement) {
    const name = file.name ?? file.fileId;
    const ok = await this.confirm(`Delete ${name}? The file is removed for good.`, "Delete");
    if (!ok) return;
    error.textContent = "";
    try {
      await this.api.remove(file.fileId);
      this.drop(file.fileId);
      announce(`${name} deleted.`);
      document.getElementById("files-heading")?.focus();
      if (this.files.size === 0) this.showEmpty();
    } catch (e) {
      error.textContent = `Delete failed: ${e instanceof Error ? e.message : e}`;
    }
  }
}
