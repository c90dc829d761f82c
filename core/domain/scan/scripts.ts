/**
 * Scripts judged by their content, whatever a file or an archive entry is called: Windows batch (with or
 * without `@echo off`), PowerShell download-and-run, JScript / VBScript / WSH droppers, shell one-liners that
 * fetch and run code, and DDE formulas in CSV cells (`=cmd|' /c calc'!A1`), which spreadsheet programs offer to
 * run. Only streams whose first bytes are text get this search (see `textEncodingOf`), so binary data never
 * pays for it.
 *
 * What must hold on its own is a call that only a script makes (`new ActiveXObject(`, `CreateObject(`,
 * `DownloadString(`, `cmd /c`, `certutil -urlcache`, …). Ordinary batch commands (`set x=`, `goto`, `if exist`,
 * labels, `rem`) appear in prose and CSV as words too, so they count only when three lines of a file start with
 * them. Text that merely quotes a dropper is held as well: a person can look at it; nobody can run it by mistake.
 */
import { type Matcher, windowMatcher } from "./signatures.ts";
import type { TextEncoding } from "./text-encoding.ts";

/** How a text stream's bytes map to characters for the search; it lives apart so signatures can use it too. */
export { type TextEncoding, textEncodingOf } from "./text-encoding.ts";

/** Findings one match is enough for. */
const STRONG: readonly [string, string][] = [
  // Batch: how batch files typically begin, and cmd.exe idioms that prose does not use.
  ["Airlock.Script.Batch", String.raw`^[ \t]*@?echo[ \t]+off\b`],
  ["Airlock.Script.Batch", String.raw`%comspec%|%~(?:dp0|f0|nx0|0)\b|\bdel[ \t]+(?:/[a-z][ \t]+)*"?%~?0\b`],
  ["Airlock.Script.Batch", String.raw`\bcmd(?:\.exe)?"?[ \t]+/[ckr][ \t]`],
  [
    "Airlock.Script.Batch",
    String.raw`\bcertutil(?:\.exe)?[ \t][^\r\n]{0,120}?[-/](?:urlcache|decode|decodehex)\b`,
  ],
  [
    "Airlock.Script.Batch",
    String.raw`\bbitsadmin(?:\.exe)?[ \t][^\r\n]{0,60}?/(?:transfer|addfile|create)\b`,
  ],
  ["Airlock.Script.Batch", String.raw`\bmshta(?:\.exe)?[ \t]+"?(?:https?:|vbscript:|javascript:|\\\\)`],
  ["Airlock.Script.Batch", String.raw`\bregsvr32(?:\.exe)?[ \t][^\r\n]{0,60}?/i:`],
  [
    "Airlock.Script.Batch",
    String.raw`\brundll32(?:\.exe)?[ \t]+(?:javascript:|url\.dll|shell32\.dll,|[^\s,]+,[ \t]*#?\w)`,
  ],
  ["Airlock.Script.Batch", String.raw`\bschtasks(?:\.exe)?[ \t]+/create\b`],
  [
    "Airlock.Script.Batch",
    String.raw`\bvssadmin(?:\.exe)?[ \t]+delete[ \t]+shadows|\bwmic(?:\.exe)?[ \t]+(?:shadowcopy[ \t]+delete|process[ \t]+call[ \t]+create)|\bbcdedit(?:\.exe)?[ \t]+/set\b`,
  ],
  ["Airlock.Script.Batch", String.raw`\breg(?:\.exe)?[ \t]+add[ \t]+"?hk(?:lm|cu|ey_)`],
  // PowerShell: download, decode and run.
  [
    "Airlock.Script.PowerShell",
    String.raw`\bpowershell(?:\.exe)?"?[ \t]+[^\r\n]{0,80}?[-/](?:e(?:nc(?:odedcommand)?)?|nop(?:rofile)?|noni(?:nteractive)?|w(?:indowstyle)?[ \t]+h(?:idden)?|ep[ \t]+bypass|exec(?:utionpolicy)?[ \t]+bypass|c(?:ommand)?)\b`,
  ],
  [
    "Airlock.Script.PowerShell",
    String.raw`\b(?:invoke-expression|download(?:string|file|data)(?:async)?[ \t]*\(|frombase64string[ \t]*\(|invoke-webrequest|invoke-restmethod|start-bitstransfer|set-executionpolicy|net\.webclient|add-mppreference\b|\[(?:system\.)?reflection\.assembly\][ \t]*::[ \t]*load)`,
  ],
  ["Airlock.Script.PowerShell", String.raw`\biex[ \t]*[($]|\|[ \t]*iex\b|\b(?:iwr|irm)[ \t]+["']?https?:`],
  [
    "Airlock.Script.PowerShell",
    String.raw`\bstart-process\b[^\r\n]{0,120}?-windowstyle[ \t]+hidden|-executionpolicy[ \t]+bypass|-encodedcommand\b`,
  ],
  // JScript / VBScript / Windows Script Host: COM automation objects are how a script touches the system.
  [
    "Airlock.Script.WindowsHost",
    String.raw`\bactivexobject[ \t]*\(|\b(?:createobject|getobject)[ \t]*\(|\bwscript\.(?:shell|createobject|run|exec|scriptfullname|sleep|quit|arguments|network)\b|\bshell\.application\b|\bscripting\.filesystemobject\b|\badodb\.stream\b|\bmsxml2\.(?:server)?xmlhttp\b|\bwinhttp\.winhttprequest\b|#@~\^`,
  ],
  // Unix shell one-liners that fetch and run code, and reverse shells.
  [
    "Airlock.Script.Shell",
    String.raw`\b(?:curl|wget)[ \t][^\r\n|]{0,200}\|[ \t]*(?:sudo[ \t]+)?(?:ba|da|z|k)?sh\b|/dev/tcp/\d|\bnc(?:at)?[ \t][^\r\n]{0,60}[ \t]-e[ \t]+/bin/(?:ba)?sh\b|\bbash[ \t]+-i[ \t]+>&`,
  ],
  // A CSV cell that is a DDE formula: `=cmd|' /c calc'!A1`, also behind `+ - @` and arithmetic.
  [
    "Airlock.Csv.Dde",
    String.raw`(?:^|[,;\t]|")[ \t]*[=+\-@][^\r\n,;\t]{0,80}?\w\|[ \t]*'[^'\r\n]{0,300}'[ \t]*!`,
  ],
];

/** Batch commands that a line may start with; three such lines make a batch file. */
const BATCH_LINE = String.raw`^[ \t]*@?(?:set[ \t]+(?:/[ap][ \t]+)?"?\w+=|if[ \t]+(?:/i[ \t]+)?(?:not[ \t]+)?(?:exist|errorlevel|defined|"?%)|goto[ \t]+:?\w+[ \t]*\r?$|call[ \t]+(?::\w|\S+\.(?:bat|cmd)\b)|:[a-z_]\w*[ \t]*\r?$|rem(?:[ \t]|\r?$)|::|setlocal\b|endlocal\b|for[ \t]+(?:/[fdlr][ \t]+(?:"[^"]*"[ \t]+)?)?%%?\w[ \t]+in[ \t]*\(|exit[ \t]+/b\b|(?:del|erase)[ \t]+/[fqsa]\b|start[ \t]+(?:""|/(?:b|min|wait))|(?:taskkill|attrib|icacls|takeown|copy|xcopy|move)[ \t]+[^\r\n]{0,40}?[ \t/][+-]?[fhrsyqi]\b|timeout[ \t]+/t\b|ping[ \t]+-n[ \t]+\d|title[ \t]+\S|color[ \t]+[0-9a-f]{2}\b|chcp[ \t]+\d|cls[ \t]*\r?$|pause[ \t]*\r?$)`;

const BATCH_LINES = 3;

/**
 * Speed: one search for rare keywords (and line starts that may begin a batch command) runs over all text; the
 * full patterns only run on the few lines around a hit. The keywords are arranged as a trie, which V8 searches
 * faster than a flat alternation.
 */
const TRIGGER_WORDS = [
  "echo",
  "%comspec%",
  "%~",
  "del",
  "erase",
  "cmd",
  "certutil",
  "bitsadmin",
  "mshta",
  "regsvr32",
  "rundll32",
  "schtasks",
  "vssadmin",
  "wmic",
  "bcdedit",
  "reg",
  "powershell",
  "invoke-",
  "download",
  "frombase64",
  "webrequest",
  "restmethod",
  "bitstransfer",
  "executionpolicy",
  "net.webclient",
  "mppreference",
  "reflection",
  "iex",
  "iwr",
  "irm",
  "start-process",
  "encodedcommand",
  "activexobject",
  "createobject",
  "getobject",
  "wscript.",
  "shell.application",
  "scripting.",
  "adodb.",
  "msxml2.",
  "winhttp.",
  "#@~^",
  "curl",
  "wget",
  "/dev/tcp/",
  "nc",
  "ncat",
  "bash",
  "|'",
  "| '",
];

function trie(words: readonly string[]): string {
  const escaped = (c: string) => c.replace(/[.*+?^${}()|[\]\\/#~-]/g, "\\$&");
  const byFirst = new Map<string, string[]>();
  let ends = false;
  for (const word of words) {
    if (word === "") ends = true;
    else {
      const rest = byFirst.get(word[0] as string) ?? [];
      rest.push(word.slice(1));
      byFirst.set(word[0] as string, rest);
    }
  }
  const alternatives = [...byFirst].map(([first, rest]) => `${escaped(first)}(?:${trie(rest)})`);
  if (ends) alternatives.push("");
  return alternatives.join("|");
}

const BATCH_STARTS =
  "set if goto call rem setlocal endlocal for exit del erase start taskkill attrib icacls takeown copy xcopy move timeout ping title color chcp cls pause".split(
    " ",
  );
export const TRIGGER = new RegExp(
  `\\b(?:${trie(TRIGGER_WORDS.filter((w) => /^\w/.test(w)))})|${trie(TRIGGER_WORDS.filter((w) => !/^\w/.test(w)))}|\\n[ \\t]*@?(?:${trie(BATCH_STARTS)}|:)`,
  "gi",
);
const STRONG_PATTERNS = STRONG.map(([name, source]) => [name, new RegExp(source, "im")] as const);
const BATCH_LINE_PATTERN = new RegExp(BATCH_LINE, "i");

/** Characters around a hit that its pattern may span (every pattern stays within one line). */
const SPAN = 400;
/** Characters at the start of a stream the head rules look at. */
const HEAD_TEXT = 2048;
/** Bytes decoded and searched at a time. */
const SLICE = 64 * 1024;
/** A line longer than this is searched in pieces; the last SPAN characters carry over. */
const LONG_LINE = 8192;

/** Maps UTF-16 code units to one character each (their low byte when the high byte is zero). */
function narrower(encoding: "utf16le" | "utf16be"): (chunk: Buffer) => string {
  let odd: number | undefined;
  return (chunk) => {
    let bytes = chunk;
    if (odd !== undefined) bytes = Buffer.concat([Buffer.from([odd]), chunk]);
    odd = bytes.length % 2 === 1 ? (bytes[bytes.length - 1] as number) : undefined;
    const units = Math.floor(bytes.length / 2);
    const out = Buffer.allocUnsafe(units);
    const [low, high] = encoding === "utf16le" ? [0, 1] : [1, 0];
    for (let i = 0; i < units; i++) {
      out[i] = bytes[2 * i + high] === 0 ? (bytes[2 * i + low] as number) : 0x3f;
    }
    return out.toString("latin1");
  };
}

/**
 * Text formats that Windows, Office or a desktop runs or follows, known by how they begin: Internet and Explorer
 * command shortcuts, desktop entries, registry files, setup information files, Excel web queries, and SYLK
 * spreadsheets (whose Excel 4.0 formulas are searched as the stream passes).
 */
const HEAD_RULES: readonly [RegExp, string][] = [
  [/^\s*\[InternetShortcut\]/i, "Airlock.Shortcut.Url"],
  [/^\s*\[Shell\][ \t]*\r?\n(?:[^\n]*\n){0,10}?[ \t]*Command[ \t]*=/i, "Airlock.Shortcut.Scf"],
  [/^\s*\[Desktop Entry\](?:[^\n]*\n){0,40}?[ \t]*Exec[ \t]*=/i, "Airlock.Shortcut.Desktop"],
  [/^\s*(?:Windows Registry Editor Version \d|REGEDIT4)\b/i, "Airlock.Script.Registry"],
  [
    /^\s*\[Version\](?:[^\n]*\n){0,20}?[ \t]*Signature[ \t]*=[ \t]*"?\$(?:Chicago|Windows NT)\$/i,
    "Airlock.Script.Inf",
  ],
  [/^\s*WEB[ \t]*\r?\n[ \t]*1[ \t]*\r?\n[ \t]*(?:https?|ftp):\/\//i, "Airlock.Office.WebQuery"],
];
/** SYLK (`ID;P…`): a cell formula (`;E…`) calling Excel 4.0 functions that run or fetch things. */
const SYLK_HEAD = /^ID;P/;
const SYLK_MACRO =
  /;E(?:[^\r\n]{0,300}?[^\w.])?(?:EXEC|CALL|REGISTER|RUN|FOPEN|FWRITE|URLDownloadToFile)[ \t]*\(/i;

export function scriptMatcher(encoding: TextEncoding, found: (name: string) => void): Matcher {
  const decode = encoding === "8bit" ? (chunk: Buffer) => chunk.toString("latin1") : narrower(encoding);
  const decodeHead = encoding === "8bit" ? (chunk: Buffer) => chunk.toString("latin1") : narrower(encoding);
  const reported = new Set<string>();
  const report = (name: string) => {
    if (reported.has(name)) return;
    reported.add(name);
    found(name);
  };
  let batchLines = 0;
  // The carry starts with the newline before an unfinished line ("\n" at first: the stream starts a line).
  let carry = "\n";
  const search = (text: string, done: number) => {
    TRIGGER.lastIndex = 0;
    for (let m = TRIGGER.exec(text); m !== null && m.index < done; m = TRIGGER.exec(text)) {
      const lineStart = text.lastIndexOf("\n", m.index - (m[0][0] === "\n" ? 0 : 1));
      const from = Math.max(lineStart + 1, m.index - SPAN);
      const lineEnd = text.indexOf("\n", m.index + 1);
      const to = Math.min(lineEnd === -1 ? text.length : lineEnd, m.index + m[0].length + SPAN);
      // A window that does not begin at a line start gets a control character, so `^` cannot match there.
      const window = (from === lineStart + 1 ? "" : "\u0001") + text.slice(from, to);
      if (m[0][0] === "\n") {
        if (BATCH_LINE_PATTERN.test(window) && ++batchLines === BATCH_LINES) report("Airlock.Script.Batch");
        continue;
      }
      for (const [name, pattern] of STRONG_PATTERNS) if (pattern.test(window)) report(name);
    }
  };
  const piece = (chunk: Buffer) => {
    const text = carry + decode(chunk);
    // Search complete lines only; an unfinished last line is searched with the next chunk.
    let done = text.lastIndexOf("\n");
    if (done <= 0 || text.length - done > LONG_LINE) done = Math.max(0, text.length - SPAN);
    search(text, done);
    carry = text.slice(done);
  };
  // The first bytes decide the head rules; a SYLK file is also searched for macro formulas throughout.
  let head = "";
  let sylk: Matcher | undefined;
  const judgeHead = (text: string) => {
    const start = text.replace(/^\uFEFF/, "");
    for (const [pattern, name] of HEAD_RULES) if (pattern.test(start)) report(name);
    if (!SYLK_HEAD.test(start)) return;
    if (SYLK_MACRO.test(start)) report("Airlock.Office.Xlm");
    sylk = windowMatcher(SYLK_MACRO, true, () => {
      report("Airlock.Office.Xlm");
      return undefined;
    });
  };
  // Memory: large chunks are searched in slices, so no string is longer than a slice and its carry.
  const matcher: Matcher = (chunk) => {
    if (head.length < HEAD_TEXT) {
      head += decodeHead(chunk.subarray(0, HEAD_TEXT * 2));
      if (head.length >= HEAD_TEXT) judgeHead(head);
    }
    // The chunk that completed the head is searched again whole: a repeated finding is reported once.
    sylk?.(chunk);
    for (let i = 0; i < chunk.length; i += SLICE) piece(chunk.subarray(i, i + SLICE));
  };
  matcher.end = () => {
    if (head.length < HEAD_TEXT) judgeHead(head);
    search(carry, carry.length);
  };
  return matcher;
}
