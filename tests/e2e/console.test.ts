/**
 * The web console end to end in headless Chromium against the local stack: dev sign-in, uploads by the file
 * picker (a clean PDF, the EICAR test file, a refused type, a multipart file above the threshold), live
 * verdicts with their reasons, preview, download compared byte for byte, delete with confirmation, the list's
 * error state and empty filter, and a multipart upload resumed after a reload.
 * Screenshots of the main states go to tests/.artifacts/console/.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "../../local/stack.ts";
import { buildWeb } from "../../web/build.ts";
import { pdf, png } from "../fixtures/documents.ts";
import { EICAR } from "../fixtures/malicious.ts";

const CHROMIUM = process.env.AIRLOCK_CHROMIUM ?? "/usr/bin/chromium";
const ACCEPTED =
  "Accepted: PDF, images (PNG, JPEG, GIF, WebP), Office documents (Word, Excel, PowerPoint), text (plain text, CSV, JSON) and ZIP archives, up to 100 MiB each.";
const SHOTS = resolve("tests/.artifacts/console");
const THRESHOLD = 1024 * 1024;
const VERDICT_TIMEOUT = 60_000;

let stack: LocalStack;
let browser: Browser;
let page: Page;
/** Errors the page logged: a CSP violation or an uncaught exception fails the last test. */
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}. Install it with: ` +
        "sudo DEBIAN_FRONTEND=noninteractive apt-get install -y chromium (or set AIRLOCK_CHROMIUM)",
    );
  }
  await mkdir(SHOTS, { recursive: true });
  const dir = await buildWeb(join(tmpdir(), `airlock-console-${process.pid}`));
  stack = await startLocalStack({
    sweepIntervalMs: 3_600_000,
    multipartThresholdBytes: THRESHOLD,
    console: { dir },
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
  page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1100, height: 900 } });
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) pageErrors.push(message.text());
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const card = (name: string) => page.locator("li.file", { has: page.locator("h3", { hasText: name }) });
const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

// Generous per-test limits: verdicts arrive in about a second, but a loaded machine can be slower.
describe("Web console in Chromium", { timeout: 120_000 }, () => {
  it("signs in with the dev sign-in", async () => {
    const url = stack.state.console?.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    await page.goto(url ?? "");
    await expect.poll(() => page.getByRole("heading", { name: "Sign in" }).count()).toBe(1);
    await shot("1-sign-in");
    await page.getByLabel("User name").fill("carol");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("Signed in as carol").waitFor();
    await page.getByText("No files yet").waitFor();
    // What may be uploaded is said before a file is picked, and the picker offers only those types.
    await page.getByText(ACCEPTED).waitFor();
    const accept = (await page.locator("#file-input").getAttribute("accept"))?.split(",") ?? [];
    expect(accept).toEqual(
      expect.arrayContaining([".pdf", "application/pdf", ".jpeg", "image/jpeg", ".docx"]),
    );
    expect(accept).not.toContain(".exe");
    expect(await page.locator("#file-input").getAttribute("aria-describedby")).toBe("upload-rules");
  });

  it("refuses a type that is not accepted in words, before asking the server", async () => {
    const presigns: string[] = [];
    const onRequest = (r: { method(): string; url(): string }) => {
      if (r.method() === "POST" && /\/uploads$/.test(r.url())) presigns.push(r.url());
    };
    page.on("request", onRequest);
    await page.setInputFiles("#file-input", {
      name: "tool.exe",
      mimeType: "application/x-msdownload",
      buffer: Buffer.from("MZ not really a program"),
    });
    const row = page.locator("li.upload", { hasText: "tool.exe" });
    await row.getByText(`Not uploaded: this type of file (.exe) is not accepted. ${ACCEPTED}`).waitFor();
    page.off("request", onRequest);
    expect(presigns).toEqual([]);
    await shot("2-refused");
    await row.getByRole("button", { name: "Dismiss tool.exe", exact: true }).click();
  });

  it("says the server's refusal in the same words when the name passes the console", async () => {
    // A .txt that claims to be a PDF: the extension is accepted, the server refuses the pair.
    await page.setInputFiles("#file-input", {
      name: "claims.txt",
      mimeType: "application/pdf",
      buffer: Buffer.from("plain text"),
    });
    const row = page.locator("li.upload", { hasText: "claims.txt" });
    await row
      .getByText(
        "Not uploaded: the file name has the extension .txt, which does not match application/pdf (such as .pdf).",
      )
      .waitFor();
    await row.getByRole("button", { name: "Dismiss claims.txt" }).click();
  });

  it("uploads a clean PDF and the EICAR file and shows VERIFIED and INFECTED with reasons", async () => {
    const report = pdf({ pages: 3, text: "quarterly report from the browser" });
    await page.setInputFiles("#file-input", [
      { name: "report.pdf", mimeType: "application/pdf", buffer: Buffer.from(report) },
      { name: "eicar.txt", mimeType: "text/plain", buffer: Buffer.from(EICAR) },
      { name: "pixel.png", mimeType: "image/png", buffer: Buffer.from(png(40, 30)) },
    ]);
    // Each announcement is removed after 10 s; watched from now, it is seen whichever verdict comes last.
    const announced = page
      .locator("#announcer")
      .getByText(/eicar\.txt: Infected/)
      .waitFor({ state: "attached", timeout: VERDICT_TIMEOUT });
    announced.catch(() => undefined); // awaited below; not an unhandled rejection while the badges are awaited
    await card("report.pdf").locator('.badge[data-status="VERIFIED"]').waitFor({ timeout: VERDICT_TIMEOUT });
    await card("eicar.txt").locator('.badge[data-status="INFECTED"]').waitFor({ timeout: VERDICT_TIMEOUT });
    await card("pixel.png").locator('.badge[data-status="VERIFIED"]').waitFor({ timeout: VERDICT_TIMEOUT });

    const verified = card("report.pdf");
    expect(await verified.locator(".badge").innerText()).toBe("Verified");
    expect(await verified.locator(".facts").innerText()).toMatch(/Pages\s+3/);
    expect(await verified.locator(".facts").innerText()).toMatch(/SHA-256\s+[0-9a-f]{64}/);
    const infected = card("eicar.txt");
    expect(await infected.locator(".summary").innerText()).toContain(
      "Malware or dangerous content was found",
    );
    expect(await infected.locator(".reasons").innerText()).toContain(
      "Found the EICAR antivirus test signature (Airlock.Eicar).",
    );
    expect(await infected.getByRole("button", { name: "Download" }).count()).toBe(0);
    // Every action names its file for screen readers, while the button shows the verb.
    expect(await infected.getByRole("button", { name: "Delete eicar.txt", exact: true }).count()).toBe(1);
    expect(await verified.getByRole("button", { name: "Download report.pdf", exact: true }).count()).toBe(1);
    expect(await verified.getByRole("button", { name: "Preview report.pdf", exact: true }).count()).toBe(1);
    const shown = await verified
      .getByRole("button", { name: "Download report.pdf" })
      .evaluate((button) => button.firstChild?.textContent);
    expect(shown).toBe("Download");
    // Status changes were announced to screen readers.
    await announced;

    await card("pixel.png").getByRole("button", { name: "Preview" }).click();
    const image = card("pixel.png").locator(".preview img");
    await image.waitFor();
    await expect
      .poll(() => image.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth))
      .toBe(40);
    await shot("3-verdicts");
  });

  it("downloads the verified PDF with the same bytes, then deletes it after confirmation", async () => {
    const report = pdf({ pages: 3, text: "quarterly report from the browser" });
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      card("report.pdf").getByRole("button", { name: "Download report.pdf", exact: true }).click(),
    ]);
    expect(download.suggestedFilename()).toBe("report.pdf");
    expect(Buffer.from(await readFile(await download.path()))).toEqual(Buffer.from(report));

    await card("report.pdf").getByRole("button", { name: "Preview" }).click();
    const frame = card("report.pdf").locator(".preview iframe");
    await frame.waitFor();
    expect(await frame.getAttribute("src")).toMatch(/\/airlock-clean\/.*response-content-disposition=inline/);
    expect(await frame.getAttribute("title")).toBe("Preview of report.pdf");

    await card("report.pdf").getByRole("button", { name: "Delete report.pdf", exact: true }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText("Delete report.pdf?").waitFor();
    await shot("4-confirm-delete");
    await dialog.getByRole("button", { name: "Delete" }).click();
    await expect.poll(() => card("report.pdf").count()).toBe(0);
    await page.getByRole("button", { name: "Refresh" }).click();
    await card("eicar.txt").waitFor();
    expect(await card("report.pdf").count()).toBe(0);
  });

  it("uploads a file above the multipart threshold in parallel parts", async () => {
    const big = Buffer.from("a line of text for the multipart upload\n".repeat(230_000));
    // Parts are at least 8 MiB: this makes two, the second short.
    expect(big.length).toBeGreaterThan(8 * 1024 * 1024);
    await page.setInputFiles("#file-input", { name: "big.txt", mimeType: "text/plain", buffer: big });
    const row = page.locator("li.upload", { hasText: "big.txt" });
    await row.getByText(/Uploading in 2 parts|Uploaded/).waitFor();
    expect(await row.locator(".parts progress").count()).toBe(2);
    await card("big.txt").locator('.badge[data-status="VERIFIED"]').waitFor({ timeout: VERDICT_TIMEOUT });
    expect(await card("big.txt").locator(".facts").innerText()).toMatch(/Size\s+8\.8 MiB/);
    await shot("5-multipart");
  });

  it("retries a part the network dropped and completes the upload", async () => {
    let dropped = 0;
    await page.route(/partNumber=1&/, async (route) => {
      if (route.request().method() === "PUT" && dropped === 0) {
        dropped++;
        return route.abort("connectionreset");
      }
      return route.continue();
    });
    const big = Buffer.from("retried multipart upload line\n".repeat(300_000));
    await page.setInputFiles("#file-input", { name: "retried.txt", mimeType: "text/plain", buffer: big });
    await card("retried.txt").locator('.badge[data-status="VERIFIED"]').waitFor({ timeout: VERDICT_TIMEOUT });
    expect(dropped).toBe(1);
    await page.unroute(/partNumber=1&/);
  });

  it("cancels a multipart upload and aborts it on the server", async () => {
    // Hold part 2 so that there is time to cancel.
    await page.route(/partNumber=2&/, () => undefined);
    try {
      const big = Buffer.from("cancelled multipart upload line\n".repeat(300_000));
      const firstPart = page.waitForResponse(
        (r) => r.request().method() === "PUT" && /partNumber=1&/.test(r.url()),
      );
      await page.setInputFiles("#file-input", { name: "cancelled.txt", mimeType: "text/plain", buffer: big });
      const row = page.locator("li.upload", { hasText: "cancelled.txt" });
      await row.getByText("Uploading in 2 parts").waitFor();
      expect((await firstPart).status()).toBe(200);
      // Part 1 is done, part 2 is held: the row says how far it is.
      await expect
        .poll(() => row.locator(".upload-progress").innerText(), { timeout: 15_000 })
        .toMatch(/^(8[0-9]|9[0-9])% · 8\.0 MiB of 9\.2 MiB/);
      const abort = page.waitForResponse(
        (r) => r.request().method() === "DELETE" && /\/uploads\//.test(r.url()),
      );
      await row.getByRole("button", { name: "Cancel upload of cancelled.txt", exact: true }).click();
      expect((await abort).status()).toBe(204);
      await row.getByText("Cancelled", { exact: true }).waitFor();
      expect(await card("cancelled.txt").count()).toBe(0);
    } finally {
      await page.unroute(/partNumber=2&/);
    }
  });

  it("pages through the list with Load more", async () => {
    const notes = Array.from({ length: 20 }, (_, i) => ({
      name: `note-${String(i).padStart(2, "0")}.txt`,
      mimeType: "text/plain",
      buffer: Buffer.from(`note number ${i}\n`),
    }));
    await page.setInputFiles("#file-input", notes);
    for (const note of notes)
      await card(note.name).locator('.badge[data-status="VERIFIED"]').waitFor({ timeout: VERDICT_TIMEOUT });
    await page.getByRole("button", { name: "Refresh" }).click();
    await expect.poll(() => page.locator("li.file").count()).toBe(20);
    const more = page.getByRole("button", { name: "Load more" });
    await more.click();
    await expect.poll(() => page.locator("li.file").count()).toBe(24);
    await expect.poll(() => more.isVisible()).toBe(false);
    await card("eicar.txt").waitFor();
  });

  it("shows a list that failed to load as an error with Retry, not as an empty list", async () => {
    await page.route(/\/files\?/, (route) =>
      route.request().method() === "GET"
        ? route.fulfill({
            status: 500,
            contentType: "application/json",
            body: JSON.stringify({ message: "Internal error" }),
          })
        : route.continue(),
    );
    await page.getByRole("button", { name: "Refresh" }).click();
    const alert = page.locator(".list-error [role=alert]");
    await alert.waitFor();
    expect(await alert.innerText()).toBe("Could not load your files: Internal error");
    expect(await page.getByText("No files yet").count()).toBe(0);
    await shot("7-list-error");
    await page.unroute(/\/files\?/);
    await page.getByRole("button", { name: "Retry" }).click();
    await card("note-19.txt").waitFor();
    expect(await page.locator(".list-error").isVisible()).toBe(false);
  });

  it("says when a filter matches no file, and offers to show them all", async () => {
    await page.selectOption("#type-filter", "pptx");
    await page.getByText("No files match this filter.").waitFor();
    expect(await page.getByText("No files yet").count()).toBe(0);
    expect(await page.locator("li.file").count()).toBe(0);
    await page.getByRole("button", { name: "Show all files" }).click();
    await card("note-19.txt").waitFor();
    expect(await page.locator("#type-filter").inputValue()).toBe("");
  });

  it("resumes a multipart upload after a reload, sending only the missing part", async () => {
    // A file on disk: its last-modified time is the same when it is chosen again.
    const path = join(await mkdtemp(join(tmpdir(), "airlock-resume-")), "resumed.txt");
    const bytes = Buffer.from("resumed after a reload, line by line\n".repeat(260_000));
    await writeFile(path, bytes);
    // Part 2 never leaves the page before the reload.
    await page.route(/partNumber=2&/, () => undefined);
    const firstPart = page.waitForResponse(
      (r) => r.request().method() === "PUT" && /partNumber=1&/.test(r.url()),
    );
    await page.setInputFiles("#file-input", path);
    expect((await firstPart).status()).toBe(200);
    const saved = await page.evaluate("JSON.stringify(localStorage)");
    expect(saved).toContain("resumed.txt");
    // The upload id is kept; the token and the signed URLs are not.
    expect(saved).not.toMatch(/eyJ|X-Amz-Signature|Bearer/);

    await page.reload();
    await page.unroute(/partNumber=2&/);
    await page.getByLabel("User name").fill("carol");
    await page.getByRole("button", { name: "Sign in" }).click();
    const unfinished = page.locator(".unfinished");
    await unfinished.getByText(/resumed\.txt \(9\.\d MiB\) was not finished/).waitFor();
    expect(
      await unfinished.getByRole("button", { name: "Discard unfinished upload of resumed.txt" }).count(),
    ).toBe(1);

    const sent: string[] = [];
    const onRequest = (r: { method(): string; url(): string }) => {
      if (r.method() === "PUT" && /partNumber=\d+&/.test(r.url()))
        sent.push(/partNumber=(\d+)&/.exec(r.url())?.[1] ?? "");
      if (r.method() === "GET" && /\/uploads\/[^/]+\/parts$/.test(r.url())) sent.push("list");
    };
    page.on("request", onRequest);
    await page.setInputFiles("#file-input", path);
    await page
      .locator("li.upload", { hasText: "resumed.txt" })
      .getByText(/Resuming: 1 of 2 parts|Uploaded/)
      .waitFor();
    await card("resumed.txt").locator('.badge[data-status="VERIFIED"]').waitFor({ timeout: VERDICT_TIMEOUT });
    page.off("request", onRequest);
    expect(sent).toEqual(["list", "2"]);
    expect(await card("resumed.txt").locator(".facts").innerText()).toMatch(/Size\s+9\.\d MiB/);
    expect(await page.locator(".unfinished").isVisible()).toBe(false);
    expect(await page.evaluate("JSON.stringify(localStorage)")).toBe("{}");
  });

  it("takes files dropped on the drop zone", async () => {
    const dataTransfer = await page.evaluateHandle(`(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(["dropped by drag and drop\\n"], "dropped.txt", { type: "text/plain" }));
      return transfer;
    })()`);
    await page.dispatchEvent("#dropzone", "drop", { dataTransfer });
    await card("dropped.txt").locator('.badge[data-status="VERIFIED"]').waitFor({ timeout: VERDICT_TIMEOUT });
  });

  it("uploads and deletes with the keyboard alone", async () => {
    await page.locator("body").focus();
    for (let i = 0; i < 6 && (await page.evaluate("document.activeElement?.id")) !== "file-input"; i++)
      await page.keyboard.press("Tab");
    expect(await page.evaluate("document.activeElement?.id")).toBe("file-input");
    const [chooser] = await Promise.all([page.waitForEvent("filechooser"), page.keyboard.press("Space")]);
    await chooser.setFiles({
      name: "typed.txt",
      mimeType: "text/plain",
      buffer: Buffer.from("keyboard only\n"),
    });
    const typed = card("typed.txt");
    await typed.locator('.badge[data-status="VERIFIED"]').waitFor({ timeout: VERDICT_TIMEOUT });

    await typed.getByRole("button", { name: "Delete" }).focus();
    await page.keyboard.press("Enter");
    // The dialog opens on Cancel; Escape keeps the file.
    expect(await page.evaluate("document.activeElement?.textContent")).toBe("Cancel");
    await page.keyboard.press("Escape");
    await expect.poll(() => page.getByRole("dialog").count()).toBe(0);
    expect(await typed.count()).toBe(1);
    await typed.getByRole("button", { name: "Delete" }).focus();
    await page.keyboard.press("Enter");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await expect.poll(() => typed.count()).toBe(0);
  });

  it("is usable on a narrow screen", async () => {
    await page.setViewportSize({ width: 380, height: 800 });
    const width = await page.evaluate("document.documentElement.scrollWidth");
    expect(width).toBeLessThanOrEqual(380);
    await shot("6-narrow");
  });

  it("signs out and forgets the token", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    expect(await page.getByText("Signed in as").count()).toBe(0);
    expect(await page.evaluate("JSON.stringify(localStorage) + JSON.stringify(sessionStorage)")).toBe("{}{}");
  });

  it("ran without a CSP violation or an uncaught error", () => {
    expect(pageErrors).toEqual([]);
  });
});
