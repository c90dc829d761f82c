/**
 * Office active content beyond VBA, in the places oletools looks (msodde, oleobj, olevba, mraptor):
 *
 * - OOXML and Office 2003 XML parts: DDE (`DDE`/`DDEAUTO` Word fields, even split across runs; Excel `ddeLink`
 *   and `cmd|'…'!A1` formulas), OLE objects linked for update (`o:OLEObject Type="Link"`, `oleLink`), PowerPoint
 *   actions that run programs (`ppaction://program`, `ppaction://ole`, `ppaction://macro`), customUI callbacks,
 *   and relationships that load remote content (an external attachedTemplate, oleObject, frame, subDocument,
 *   aFChunk…, or any target with an `mhtml:`, `ms-msdt:`-style scheme).
 * - Package entry names: Excel 4.0 macro sheets (`xl/macrosheets/`), ActiveX controls (`activeX/`).
 * - OLE2 compound files: Excel 4.0 macro sheets (a BOUNDSHEET record of type macro), OLE Package objects
 *   (`\x01Ole10Native`), Equation Editor objects, ActiveX controls, DDE fields in Word 97 text, and encrypted
 *   OOXML packages (`EncryptedPackage`, which cannot be seen into).
 * - RTF: DDE fields (`\fldinst … DDEAUTO`).
 */
import { type Matcher, windowMatcher } from "./signatures.ts";
import { ScanStop } from "./walk.ts";

/** Characters carried between chunks: one relationship element or field instruction fits whole. */
const XML_CARRY = 8192;

/** Relationship types whose external target is fetched or run when the document opens. */
const REMOTE_TYPES =
  /\/(?:attachedTemplate|oleObject|frame|subDocument|aFChunk|control|package|externalLinkPath)"/i;
/** Target schemes that hand the target to another program (the Follina family) or run script. */
const DANGEROUS_TARGET =
  /\bTarget\s*=\s*"\s*(?:mhtml:|ms-[a-z-]+:|search-ms:|search:|!x-usc:|vbscript:|javascript:|jar:|hcp:|its:|mk:@msitstore)/i;

/** DDE formulas in cells: `=cmd|'/c calc'!A1` (the `=` is absent in OOXML `<f>` elements). */
const DDE_FORMULA =
  /(?:<(?:[\w.-]+:)?f\b[^>]{0,200}>|\bformula\s*=\s*"=?)\s*[=+\-@]?[^<"|]{0,80}?\w\|\s*(?:'|&apos;|&#39;)?[^<"!]{0,300}!/i;

const XML_PATTERN = new RegExp(
  [
    /(?<ddeLink><(?:[\w.-]+:)?ddeLink\b)/.source,
    `(?<ddeFormula>${DDE_FORMULA.source})`,
    /(?<fldChar><(?:[\w.-]+:)?fldChar\b[^>]*?fldCharType\s*=\s*"(?<charType>begin|separate|end)")/.source,
    /(?<instr><(?:[\w.-]+:)?instrText\b[^>]*>(?<instrText>[^<]*))/.source,
    /(?<simple><(?:[\w.-]+:)?fldSimple\b[^>]*?\binstr\s*=\s*"(?<simpleText>[^"]*)")/.source,
    /(?<action>ppaction:\/\/(?:program|ole|macro)\b)/.source,
    /(?<oleLink><(?:[\w.-]+:)?OLEObject\b[^>]*?\bType\s*=\s*"Link"|<(?:[\w.-]+:)?oleLink\b)/.source,
    /(?<relationship><(?:[\w.-]+:)?Relationship\b[^>]{0,4096}>)/.source,
    /(?<customUi><(?:[\w.-]+:)?customUI\b)/.source,
    /(?<callback>\s(?:on[A-Z]\w*|get[A-Z]\w*|loadImage)\s*=\s*")/.source,
  ].join("|"),
  "gi",
);

const decodeEntities = (text: string) =>
  text.replace(/&(?:#(\d+)|#x([0-9a-f]+)|(amp|lt|gt|quot|apos));/gi, (_, dec, hex, name) => {
    if (dec) return String.fromCharCode(Number(dec));
    if (hex) return String.fromCharCode(Number.parseInt(hex, 16));
    return (
      ({ amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" } as Record<string, string>)[name.toLowerCase()] ??
      ""
    );
  });

/** Field instructions that run or fetch something: DDE, and includes of remote or UNC files. */
function judgeField(instruction: string, found: (name: string) => void): void {
  const text = decodeEntities(instruction).replace(/\s+/g, " ");
  if (/^\s*dde(?:auto)?\b/i.test(text)) found("Airlock.Office.Dde");
  else if (/^\s*(?:includetext|import|link|rd)\s+"?\s*(?:https?:|ftp:|file:|\\\\)/i.test(text))
    found("Airlock.Office.ExternalField");
}

/** Longest field instruction assembled from split runs (msodde reads 1000 characters). */
const FIELD_MAX = 1000;

/** OOXML and Office 2003 XML parts: see the module comment. */
export function officeXmlMatcher(found: (name: string) => void): Matcher {
  let carry = "";
  let field: string | undefined;
  let customUi = false;
  const handle = (m: RegExpExecArray) => {
    const g = m.groups ?? {};
    if (g.ddeLink !== undefined || g.ddeFormula !== undefined) found("Airlock.Office.Dde");
    else if (g.fldChar !== undefined) {
      if (g.charType?.toLowerCase() === "begin") field = "";
      else if (field !== undefined) {
        judgeField(field, found);
        field = undefined;
      }
    } else if (g.instr !== undefined) {
      if (field === undefined) judgeField(g.instrText ?? "", found);
      else if (field.length < FIELD_MAX) field += g.instrText ?? "";
    } else if (g.simple !== undefined) judgeField(g.simpleText ?? "", found);
    else if (g.action !== undefined) found("Airlock.Office.ProgramAction");
    else if (g.oleLink !== undefined) found("Airlock.Office.OleLink");
    else if (g.relationship !== undefined) {
      const element = g.relationship;
      const external = /\bTargetMode\s*=\s*"External"/i.test(element);
      if ((external && REMOTE_TYPES.test(element)) || DANGEROUS_TARGET.test(element))
        found("Airlock.Office.ExternalRelationship");
      if (/ppaction:\/\/(?:program|ole|macro)\b/i.test(element)) found("Airlock.Office.ProgramAction");
    } else if (g.customUi !== undefined) customUi = true;
    else if (g.callback !== undefined && customUi) found("Airlock.Office.CustomUiCallback");
  };
  return (chunk) => {
    const text = carry + chunk.toString("latin1");
    // Elements are matched whole: search up to the last '<' (the start of an unfinished element), carry the rest.
    let done = text.lastIndexOf("<");
    if (done < 0 || text.length - done > XML_CARRY) done = text.length;
    const searched = text.slice(0, done);
    XML_PATTERN.lastIndex = 0;
    for (let m = XML_PATTERN.exec(searched); m !== null; m = XML_PATTERN.exec(searched)) handle(m);
    carry = text.slice(done);
  };
}

/** Package parts that are active content by where they are. */
export function officeEntryFinding(name: string): string | undefined {
  if (/(?:^|\/)xl\/(?:macrosheets|intlmacrosheets)\//i.test(name)) return "Airlock.Office.Xlm";
  if (/(?:^|\/)(?:word|xl|ppt)\/activeX\//i.test(name)) return "Airlock.Office.ActiveX";
  return undefined;
}

/** Content types in `[Content_Types].xml` that make a package active. */
export function officeContentTypesMatcher(found: (name: string) => void): Matcher {
  return windowMatcher(
    /(?<macro>macroenabled|vbaproject)|(?<xlm>macrosheet\+xml)|(?<activex>activex)/,
    true,
    (m) => {
      const g = m.groups ?? {};
      if (g.macro !== undefined) found("Airlock.Office.Macro");
      else if (g.xlm !== undefined) found("Airlock.Office.Xlm");
      else found("Airlock.Office.ActiveX");
      return undefined;
    },
  );
}

/** A UTF-16LE directory entry name in a compound file, with its terminating NUL. */
const utf16Name = (name: string) =>
  `${[...name].map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("\\x00")}\\x00\\x00\\x00`;

/**
 * OLE2 (compound file) documents: VBA projects (`_VBA_PROJECT`, Word's `Macros` storage), OLE Package objects
 * and the rest of the module comment. Directory names are UTF-16LE strings in directory sectors, which may sit
 * anywhere in the file; searching the whole stream for them needs no sector map and holds nothing. An Excel 4.0
 * macro sheet is a BOUNDSHEET record (0x0085) whose sheet type byte is 1; Word 97 keeps field instructions in
 * its text between the characters 0x13 and 0x14.
 */
const OLE2_PATTERN = new RegExp(
  [
    `(?<macro>${utf16Name("_VBA_PROJECT")}|${utf16Name("Macros")})`,
    `(?<package>\\x01\\x00${utf16Name("Ole10Native")})`,
    `(?<equation>${utf16Name("Equation Native")})`,
    `(?<activex>\\x03\\x00${utf16Name("OCXNAME")})`,
    `(?<encrypted>${utf16Name("EncryptedPackage")})`,
    // BOUNDSHEET: type 0x0085, a length of 8 to 263, the stream position, a visibility of 0-2, sheet type 1.
    "(?<xlm>\\x85\\x00[\\x08-\\xff][\\x00\\x01][\\s\\S]{4}[\\x00-\\x02]\\x01)",
    '(?<dde>\\x13[ \\t]{0,20}(?:DDE|dde)(?:AUTO|auto)?[ \\t\\\\"]|\\x13\\x00(?:[ \\t]\\x00){0,20}[Dd]\\x00[Dd]\\x00[Ee]\\x00(?:[Aa]\\x00[Uu]\\x00[Tt]\\x00[Oo]\\x00)?[ \\t"\\\\]\\x00)',
  ].join("|"),
);

const OLE2_FINDINGS: Record<string, string> = {
  macro: "Airlock.Ole2.Macro",
  package: "Airlock.Office.OlePackage",
  equation: "Airlock.Office.EquationEditor",
  activex: "Airlock.Office.ActiveX",
  xlm: "Airlock.Office.Xlm",
  dde: "Airlock.Office.Dde",
};

export function ole2Matcher(found: (name: string) => void): Matcher {
  return windowMatcher(OLE2_PATTERN, false, (m) => {
    const g = m.groups ?? {};
    if (g.encrypted !== undefined)
      throw new ScanStop("encrypted", "an encrypted Office package (EncryptedPackage) cannot be seen into");
    for (const [group, name] of Object.entries(OLE2_FINDINGS)) if (g[group] !== undefined) found(name);
    return undefined;
  });
}

/** RTF: embedded OLE objects (the carrier of most RTF exploits) and DDE fields. */
export function rtfMatcher(found: (name: string) => void): Matcher {
  const objects = windowMatcher(/(?<!\\)\\obj(?:ect|data|update|emb|link|autlink|ocx)\b/, false, () => {
    found("Airlock.Rtf.EmbeddedObject");
    return undefined;
  });
  // The instruction is the rest of the \fldinst group: runs split as `}{` continue it, a closing `}` ends it.
  const fields = windowMatcher(/\\fldinst\b(?:[^}]|\}\s*\{){0,200}?[\s{]dde(?:auto)?\b/, true, () => {
    found("Airlock.Office.Dde");
    return undefined;
  });
  return (chunk) => {
    objects(chunk);
    fields(chunk);
  };
}
