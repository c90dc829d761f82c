/**
 * Multipart uploads that can be resumed after a reload. The page keeps, per user and per file (name, size and
 * last-modified time, the same fingerprint resumable uploaders use), the file id of its open upload and when
 * that upload expires: nothing else, never a token or a signed URL. Choosing the same file again asks the API
 * which parts the storage service already holds and sends only the rest. Storage that is full or refused
 * (private browsing) only means no resume; entries past their expiry are dropped when read.
 */

export interface FileIdentity {
  name: string;
  size: number;
  lastModified: number;
}

export interface ResumeEntry extends FileIdentity {
  fileId: string;
  /** ISO time after which the upload can no longer be completed. */
  expiresAt: string;
}

const PREFIX = "airlock.upload.v1:";
const FILE_ID = /^[0-9a-z]{26}$/;

export class ResumeStore {
  constructor(
    private readonly storage: Storage | undefined,
    private readonly user: string,
    private readonly now: () => number = Date.now,
  ) {}

  private key(file: FileIdentity): string {
    return PREFIX + JSON.stringify([this.user, file.name, file.size, file.lastModified]);
  }

  private read(key: string): ResumeEntry | undefined {
    let raw: string | null | undefined;
    try {
      raw = this.storage?.getItem(key);
    } catch {
      return undefined;
    }
    if (!raw) return undefined;
    let entry: Partial<ResumeEntry>;
    try {
      entry = JSON.parse(raw) as Partial<ResumeEntry>;
    } catch {
      entry = {};
    }
    const expires = Date.parse(entry.expiresAt ?? "");
    if (
      typeof entry.fileId !== "string" ||
      !FILE_ID.test(entry.fileId) ||
      typeof entry.name !== "string" ||
      typeof entry.size !== "number" ||
      typeof entry.lastModified !== "number" ||
      !(expires > this.now())
    ) {
      this.remove(key);
      return undefined;
    }
    return entry as ResumeEntry;
  }

  private remove(key: string): void {
    try {
      this.storage?.removeItem(key);
    } catch {
      // Nothing to do: the entry expires by itself.
    }
  }

  /** The open upload of this file, if one was saved and has not expired. */
  get(file: FileIdentity): ResumeEntry | undefined {
    return this.read(this.key(file));
  }

  save(file: FileIdentity, fileId: string, expiresAt: string): void {
    const entry: ResumeEntry = {
      fileId,
      expiresAt,
      name: file.name,
      size: file.size,
      lastModified: file.lastModified,
    };
    try {
      this.storage?.setItem(this.key(file), JSON.stringify(entry));
    } catch {
      // Full or refused: this upload simply cannot be resumed after a reload.
    }
  }

  forget(file: FileIdentity): void {
    this.remove(this.key(file));
  }

  private keys(): string[] {
    const mine = PREFIX + JSON.stringify([this.user]).slice(0, -1);
    const keys: string[] = [];
    try {
      for (let i = 0; i < (this.storage?.length ?? 0); i++) {
        const key = this.storage?.key(i);
        if (key?.startsWith(`${mine},`)) keys.push(key);
      }
    } catch {
      return [];
    }
    return keys;
  }

  /** This user's uploads that can still be resumed, oldest expiry first. */
  pending(): ResumeEntry[] {
    return this.keys()
      .map((key) => this.read(key))
      .filter((entry): entry is ResumeEntry => entry !== undefined)
      .sort((a, b) => a.expiresAt.localeCompare(b.expiresAt));
  }

  /** Drops every entry of this user (signing out), returning the ones that were still open. */
  forgetAll(): ResumeEntry[] {
    const open = this.pending();
    for (const key of this.keys()) this.remove(key);
    return open;
  }
}
