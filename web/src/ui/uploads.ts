/**
 * The upload panel: what may be uploaded (types and size limit, from the API's upload policy, also as the
 * picker's `accept`), a drop zone and a file picker, then one row per file with its progress bar, percentage and
 * time left (and one small bar per part for multipart uploads), a Cancel button while it runs, and a refusal or
 * the transfer's error in words when it does not go through. Multipart uploads left unfinished by a reload are
 * listed: choosing the same file again resumes them, Discard aborts them.
 */
import { formatSize } from "../../../core/domain/format.ts";
import { type Api, ApiError, type UploadPolicy } from "../api.ts";
import { CancelledError } from "../parts.ts";
import { progressText, TransferRate } from "../progress.ts";
import { accepted, precheck, refusalWords } from "../refusal.ts";
import type { ResumeEntry, ResumeStore } from "../resume.ts";
import { SUSPEND, TransferError, uploadFile } from "../upload.ts";
import { announce, h } from "./dom.ts";

/** Per-part bars are drawn up to this many parts; beyond it the row counts finished parts instead. */
const MAX_PART_BARS = 48;
/** The progress line is rewritten at most this often (ms). */
const PROGRESS_EVERY_MS = 250;

/** Words for screen readers only, so a button reads "Cancel upload of report.pdf" and shows "Cancel". */
const hidden = (text: string) => h("span", { class: "visually-hidden" }, text);

export class Uploader {
  readonly element: HTMLElement;
  private readonly rows: HTMLUListElement;
  private readonly unfinished: HTMLElement;
  private readonly controllers = new Set<AbortController>();
  private readonly running = new Set<Promise<void>>();
  private readonly policy: Promise<UploadPolicy | undefined>;

  constructor(
    private readonly api: Api,
    private readonly onUploaded: (fileId: string) => void,
    private readonly resume?: ResumeStore,
  ) {
    const input = h("input", {
      type: "file",
      id: "file-input",
      multiple: true,
      class: "visually-hidden",
      "aria-describedby": "upload-rules",
      onchange: (e: Event) => {
        const target = e.target as HTMLInputElement;
        this.add([...(target.files ?? [])]);
        target.value = "";
      },
    });
    const rules = h("p", { class: "rules", id: "upload-rules" }, "Loading what can be uploaded…");
    const zone = h(
      "div",
      { class: "dropzone", id: "dropzone" },
      h("p", {}, "Drag files here, or"),
      input,
      h("label", { for: "file-input", class: "button" }, "Choose files"),
      rules,
    );
    zone.addEventListener("dragover", (e) => {
      e.preventDefault();
      zone.classList.add("dragging");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      zone.classList.remove("dragging");
      this.add([...(e.dataTransfer?.files ?? [])]);
    });
    this.policy = api.policy().then(
      (policy) => {
        rules.textContent = accepted(policy);
        const types = policy.types.flatMap((t) => [t.contentType, ...t.extensions.map((e) => `.${e}`)]);
        input.setAttribute("accept", [...new Set(types)].join(","));
        return policy;
      },
      () => {
        rules.textContent = "Each file's type and size are checked when you upload it.";
        return undefined;
      },
    );
    this.unfinished = h("div", { class: "unfinished", hidden: true });
    this.rows = h("ul", { class: "uploads", "aria-label": "Uploads in progress" });
    this.element = h(
      "section",
      { class: "panel", "aria-labelledby": "upload-heading" },
      h("h2", { id: "upload-heading" }, "Upload"),
      zone,
      this.unfinished,
      this.rows,
    );
    this.showUnfinished();
  }

  /** Cancels every running upload (their parts are dropped on the server). */
  cancelAll(): void {
    for (const controller of this.controllers) controller.abort();
  }

  /** Stops every running upload but keeps what was sent, to be resumed after signing in again. */
  suspendAll(): void {
    for (const controller of this.controllers) controller.abort(SUSPEND);
  }

  /** Signing out: cancels what runs and forgets (and aborts) the uploads left to resume. */
  async forgetAll(): Promise<void> {
    this.cancelAll();
    // The cancelled uploads abort themselves on the server while the token still works.
    await Promise.allSettled([...this.running]);
    const open = this.resume?.forgetAll() ?? [];
    await Promise.all(open.map((entry) => this.api.abort(entry.fileId).catch(() => undefined)));
  }

  add(files: File[]): void {
    for (const file of files) {
      const upload = this.upload(file);
      this.running.add(upload);
      void upload.finally(() => this.running.delete(upload));
    }
  }

  /** The uploads a reload interrupted, each with how to resume it and a Discard button. */
  private showUnfinished(): void {
    const open = this.resume?.pending() ?? [];
    const running = new Set(
      [...this.rows.querySelectorAll<HTMLElement>("li.upload")].map((r) => r.dataset.key),
    );
    const shown = open.filter((entry) => !running.has(entryKey(entry)));
    this.unfinished.hidden = shown.length === 0;
    if (shown.length === 0) {
      this.unfinished.replaceChildren();
      return;
    }
    this.unfinished.replaceChildren(
      h("h3", {}, shown.length === 1 ? "Unfinished upload" : "Unfinished uploads"),
      h(
        "ul",
        {},
        ...shown.map((entry) =>
          h(
            "li",
            { "data-name": entry.name },
            h("span", {}, `${entry.name} (${formatSize(entry.size)}) was not finished. `),
            h("span", { class: "meta" }, "Choose the same file again to resume it."),
            h(
              "button",
              {
                type: "button",
                class: "secondary",
                onclick: async () => {
                  this.resume?.forget(entry);
                  await this.api.abort(entry.fileId).catch(() => undefined);
                  announce(`${entry.name}: unfinished upload discarded.`);
                  this.showUnfinished();
                },
              },
              "Discard",
              hidden(` unfinished upload of ${entry.name}`),
            ),
          ),
        ),
      ),
    );
  }

  private async upload(file: File): Promise<void> {
    const controller = new AbortController();
    this.controllers.add(controller);
    const bar = h("progress", { max: "100", value: "0", "aria-label": `Upload progress of ${file.name}` });
    const state = h("span", { class: "upload-state" }, "Asking the server…");
    const progress = h("span", { class: "upload-progress meta" });
    const parts = h("div", { class: "parts", "aria-hidden": "true" });
    const cancel = h(
      "button",
      { type: "button", class: "secondary", onclick: () => controller.abort() },
      "Cancel",
      hidden(` upload of ${file.name}`),
    );
    const dismiss = h(
      "button",
      { type: "button", class: "secondary", hidden: true, onclick: () => row.remove() },
      "Dismiss",
      hidden(` ${file.name}`),
    );
    const row = h(
      "li",
      { class: "upload", "data-name": file.name, "data-key": entryKey(file) },
      h(
        "div",
        { class: "upload-head" },
        h("strong", {}, file.name),
        h("span", { class: "meta" }, formatSize(file.size)),
      ),
      bar,
      parts,
      h("div", { class: "upload-foot" }, state, progress, cancel, dismiss),
    );
    this.rows.prepend(row);
    this.showUnfinished();
    const partBars: HTMLProgressElement[] = [];
    const rate = new TransferRate();
    let sent = { loaded: 0, total: 0, known: false };
    let shownAt = 0;
    let trailing: ReturnType<typeof setTimeout> | undefined;
    const render = () => {
      clearTimeout(trailing);
      trailing = undefined;
      shownAt = performance.now();
      if (sent.known)
        progress.textContent = progressText(sent.loaded, sent.total, rate.secondsLeft(sent.total, shownAt));
    };
    // Redrawn every second too, so that a stalled transfer's estimate grows rather than stands still.
    const ticker = setInterval(render, 1_000);
    let doneParts = 0;
    let totalParts = 0;
    const fail = (message: string) => {
      row.classList.add("failed");
      state.textContent = message;
      state.setAttribute("role", "alert");
      sent.known = false;
      progress.textContent = "";
      // Nothing was sent: no empty bar.
      if (bar.value === 0) bar.hidden = true;
      dismiss.hidden = false;
    };
    try {
      const policy = await this.policy;
      const refusal = precheck(file, policy);
      if (refusal) {
        fail(refusal);
        return;
      }
      try {
        const fileId = await uploadFile(this.api, file, {
          signal: controller.signal,
          resume: this.resume,
          onPlan: (_, count, stored) => {
            totalParts = count;
            doneParts = 0;
            state.textContent =
              stored > 0
                ? `Resuming: ${stored} of ${count} parts already uploaded…`
                : count > 0
                  ? `Uploading in ${count} parts…`
                  : "Uploading…";
            if (count > 0 && count <= MAX_PART_BARS && partBars.length === 0)
              for (let i = 0; i < count; i++)
                partBars.push(
                  parts.appendChild(h("progress", { max: "100", value: "0", title: `Part ${i + 1}` })),
                );
          },
          onProgress: (loaded, total) => {
            bar.value = total > 0 ? Math.round((loaded / total) * 100) : 100;
            const now = performance.now();
            rate.sample(loaded, now);
            sent = { loaded, total, known: true };
            // At most every PROGRESS_EVERY_MS, and the last value always drawn (a trailing redraw).
            if (now - shownAt >= PROGRESS_EVERY_MS || loaded >= total) render();
            else trailing ??= setTimeout(render, PROGRESS_EVERY_MS - (now - shownAt));
          },
          onPartProgress: (index, loaded, total) => {
            const part = partBars[index];
            if (part) part.value = total > 0 ? Math.round((loaded / total) * 100) : 100;
            if (loaded === total && total > 0) {
              doneParts++;
              if (partBars.length === 0)
                state.textContent = `Uploading: ${Math.min(doneParts, totalParts)} of ${totalParts} parts`;
            }
          },
          onPartRetry: (index, retry, message) => {
            state.textContent = `Part ${index + 1} failed (${message}); retry ${retry}…`;
          },
        });
        bar.value = 100;
        state.textContent = "Uploaded — its verdict appears in Your files below";
        sent.known = false;
        progress.textContent = "";
        row.classList.add("done");
        announce(`${file.name} uploaded; checking it now.`);
        this.onUploaded(fileId);
        setTimeout(() => row.remove(), 4_000);
      } catch (error) {
        const policyNow = await this.policy;
        fail(
          error instanceof CancelledError
            ? controller.signal.reason === SUSPEND
              ? "Stopped; choose the file again after signing in to resume it"
              : "Cancelled"
            : error instanceof ApiError
              ? refusalWords(error, file, policyNow)
              : error instanceof TransferError && error.resumable
                ? `Upload failed: ${error.message}. Choose the file again to resume where it stopped.`
                : `Upload failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    } finally {
      clearInterval(ticker);
      clearTimeout(trailing);
      cancel.hidden = true;
      this.controllers.delete(controller);
      this.showUnfinished();
    }
  }
}

function entryKey(file: { name: string; size: number; lastModified: number } | ResumeEntry): string {
  return JSON.stringify([file.name, file.size, file.lastModified]);
}
