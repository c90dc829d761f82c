/**
 * The upload panel: a drop zone and a file picker, then one row per file with its progress bar (and one small
 * bar per part for multipart uploads), a Cancel button while it runs, and the server's refusal or the
 * transfer's error in words when it does not go through.
 */
import { formatSize } from "../../../shared/domain/format.ts";
import { type Api, ApiError } from "../api.ts";
import { CancelledError } from "../parts.ts";
import { uploadFile } from "../upload.ts";
import { announce, h } from "./dom.ts";

/** Per-part bars are drawn up to this many parts; beyond it the row counts finished parts instead. */
const MAX_PART_BARS = 48;

export class Uploader {
  readonly element: HTMLElement;
  private readonly rows: HTMLUListElement;
  private readonly controllers = new Set<AbortController>();

  constructor(
    private readonly api: Api,
    private readonly onUploaded: (fileId: string) => void,
  ) {
    const input = h("input", {
      type: "file",
      id: "file-input",
      multiple: true,
      class: "visually-hidden",
      onchange: (e: Event) => {
        const target = e.target as HTMLInputElement;
        this.add([...(target.files ?? [])]);
        target.value = "";
      },
    });
    const zone = h(
      "div",
      { class: "dropzone", id: "dropzone" },
      h("p", {}, "Drag files here, or"),
      input,
      h("label", { for: "file-input", class: "button" }, "Choose files"),
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
    this.rows = h("ul", { class: "uploads", "aria-label": "Uploads in progress" });
    this.element = h(
      "section",
      { class: "panel", "aria-labelledby": "upload-heading" },
      h("h2", { id: "upload-heading" }, "Upload"),
      zone,
      this.rows,
    );
  }

  cancelAll(): void {
    for (const controller of this.controllers) controller.abort();
  }

  add(files: File[]): void {
    for (const file of files) void this.upload(file);
  }

  private async upload(file: File): Promise<void> {
    const controller = new AbortController();
    this.controllers.add(controller);
    const bar = h("progress", { max: "100", value: "0", "aria-label": `Upload progress of ${file.name}` });
    const state = h("span", { class: "upload-state" }, "Asking the server…");
    const parts = h("div", { class: "parts", "aria-hidden": "true" });
    const cancel = h(
      "button",
      { type: "button", class: "secondary", onclick: () => controller.abort() },
      "Cancel",
    );
    const dismiss = h(
      "button",
      { type: "button", class: "secondary", hidden: true, onclick: () => row.remove() },
      "Dismiss",
    );
    const row = h(
      "li",
      { class: "upload", "data-name": file.name },
      h(
        "div",
        { class: "upload-head" },
        h("strong", {}, file.name),
        h("span", { class: "meta" }, formatSize(file.size)),
      ),
      bar,
      parts,
      h("div", { class: "upload-foot" }, state, cancel, dismiss),
    );
    this.rows.prepend(row);
    const partBars: HTMLProgressElement[] = [];
    let doneParts = 0;
    let totalParts = 0;
    try {
      const fileId = await uploadFile(this.api, file, {
        signal: controller.signal,
        onPlan: (_, count) => {
          totalParts = count;
          state.textContent = count > 0 ? `Uploading in ${count} parts…` : "Uploading…";
          if (count > 0 && count <= MAX_PART_BARS)
            for (let i = 0; i < count; i++)
              partBars.push(
                parts.appendChild(h("progress", { max: "100", value: "0", title: `Part ${i + 1}` })),
              );
        },
        onProgress: (loaded, total) => {
          bar.value = total > 0 ? Math.round((loaded / total) * 100) : 100;
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
      row.classList.add("done");
      announce(`${file.name} uploaded; checking it now.`);
      this.onUploaded(fileId);
      setTimeout(() => row.remove(), 4_000);
    } catch (error) {
      row.classList.add("failed");
      const message =
        error instanceof CancelledError
          ? "Cancelled"
          : error instanceof ApiError
            ? `Refused by the server: ${error.message}`
            : `Upload failed: ${error instanceof Error ? error.message : String(error)}`;
      state.textContent = message;
      state.setAttribute("role", "alert");
      dismiss.hidden = false;
    } finally {
      cancel.hidden = true;
      this.controllers.delete(controller);
    }
  }
}
