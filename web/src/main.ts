/**
 * The console's entry point: read `config.json`, sign in (the local stack's dev form, or the OIDC provider
 * with PKCE), then show the upload panel and the file list. Signing out (or a rejected token) drops the token
 * and returns to the sign-in screen.
 */
import { Api } from "./api.ts";
import { completeOidcSignIn, localSignIn, Session, startOidcSignIn } from "./auth/session.ts";
import { type ConsoleConfig, parseConfig } from "./config.ts";
import { ResumeStore } from "./resume.ts";
import { announce, h } from "./ui/dom.ts";
import { FileList } from "./ui/files.ts";
import { Uploader } from "./ui/uploads.ts";

const root = document.getElementById("app") as HTMLElement;
const session = new Session();
let teardown: (() => void) | undefined;

function show(...nodes: Node[]): void {
  root.replaceChildren(...nodes);
  (root.querySelector("h1, h2, [autofocus]") as HTMLElement | null)?.focus();
}

function failure(message: string): HTMLElement {
  return h("p", { class: "error", role: "alert" }, message);
}

/** A modal yes/no question in a native dialog (focus is kept inside it, Escape answers no). */
function confirmDialog(question: string, action: string): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-labelledby": "confirm-text" },
      h(
        "form",
        { method: "dialog" },
        h("p", { id: "confirm-text" }, question),
        h(
          "div",
          { class: "actions" },
          h("button", { value: "cancel", class: "secondary", autofocus: true }, "Cancel"),
          h("button", { value: "ok", class: "danger" }, action),
        ),
      ),
    );
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "ok");
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

function signInScreen(config: ConsoleConfig, error?: string): void {
  teardown?.();
  document.getElementById("who")?.replaceChildren();
  if (config.auth.mode === "local") {
    const { tokenUrl } = config.auth;
    const input = h("input", {
      id: "user",
      name: "user",
      required: true,
      autocomplete: "username",
      pattern: "[A-Za-z0-9._@\\-]{1,64}",
      value: "alice",
    });
    const message = h("p", { class: "error", role: "alert" }, error ?? "");
    const form = h(
      "form",
      {
        class: "panel signin",
        onsubmit: async (e: Event) => {
          e.preventDefault();
          message.textContent = "";
          try {
            session.set(await localSignIn(tokenUrl, input.value.trim()));
            app(config);
          } catch (err) {
            message.textContent = err instanceof Error ? err.message : String(err);
          }
        },
      },
      h("h2", { tabindex: "-1" }, "Sign in"),
      h("p", {}, "Local stack: pick any user name. Each user sees only their own files."),
      h("label", { for: "user" }, "User name"),
      input,
      h("button", { type: "submit" }, "Sign in"),
      message,
    );
    show(form);
    return;
  }
  const auth = config.auth;
  show(
    h(
      "div",
      { class: "panel signin" },
      h("h2", { tabindex: "-1" }, "Sign in"),
      h("p", {}, "You will be sent to your organisation's sign-in page and brought back here."),
      h(
        "button",
        {
          type: "button",
          onclick: () => startOidcSignIn(auth).catch((e: unknown) => signInScreen(config, String(e))),
        },
        "Sign in",
      ),
      error ? failure(error) : null,
    ),
  );
}

function app(config: ConsoleConfig): void {
  const api = new Api(
    config.apiUrl,
    () => session.get(),
    () => {
      session.clear();
      signInScreen(config, "Your session has expired. Please sign in again.");
    },
  );
  const files = new FileList(api, confirmDialog);
  let storage: Storage | undefined;
  try {
    storage = window.localStorage;
  } catch {
    storage = undefined;
  }
  const uploader = new Uploader(
    api,
    (fileId) => void files.track(fileId),
    new ResumeStore(storage, session.user),
  );
  // An expired session stops the uploads but keeps them to resume after signing in again.
  teardown = () => {
    files.stop();
    uploader.suspendAll();
    teardown = undefined;
  };
  const who = h(
    "div",
    { class: "who" },
    h("span", {}, `Signed in as ${session.user}`),
    h(
      "button",
      {
        type: "button",
        class: "secondary",
        onclick: async () => {
          // Signing out leaves nothing behind: running and unfinished uploads are aborted while the token
          // still works, and forgotten by this browser.
          await uploader.forgetAll();
          session.clear();
          signInScreen(config);
          announce("Signed out.");
        },
      },
      "Sign out",
    ),
  );
  document.getElementById("who")?.replaceChildren(who);
  show(uploader.element, files.element);
  void files.reload();
}

async function boot(): Promise<void> {
  let config: ConsoleConfig;
  try {
    const res = await fetch("config.json", { cache: "no-store" });
    config = parseConfig(await res.json());
  } catch (error) {
    show(failure(`The console is not configured: ${error instanceof Error ? error.message : error}`));
    return;
  }
  if (config.auth.mode === "oidc") {
    try {
      const token = await completeOidcSignIn(config.auth);
      if (token) {
        session.set(token);
        return app(config);
      }
    } catch (error) {
      return signInScreen(config, error instanceof Error ? error.message : String(error));
    }
  }
  signInScreen(config);
}

void boot();
