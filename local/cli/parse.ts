/** Parsers for option values: a wrong value is a usage error (exit 2) that names the option and the value. */
import { InvalidArgumentError } from "commander";

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError("expected a number greater than 0.");
  return n;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0)
    throw new InvalidArgumentError("expected a whole number greater than 0.");
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n))
    throw new InvalidArgumentError("expected a whole number, 0 or more.");
  return n;
}

/** A system name as drop keys allow it: `drops/<system>/…`. */
export function systemName(value: string): string {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(value))
    throw new InvalidArgumentError("expected 1–64 letters, digits, '.', '_' or '-'.");
  return value;
}

export function nonEmpty(value: string): string {
  if (value.trim() === "") throw new InvalidArgumentError("expected a value.");
  return value;
}

/** Repeatable options (`--include a --include b`) collect into a list. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, nonEmpty(value)];
}

export const LIST_STATUSES = ["PENDING", "VERIFIED", "REJECTED", "INFECTED", "FAILED", "DELETED"] as const;

export function fileStatus(value: string): (typeof LIST_STATUSES)[number] {
  const upper = value.toUpperCase();
  const found = LIST_STATUSES.find((s) => s === upper);
  if (!found) throw new InvalidArgumentError(`Unknown status; expected one of ${LIST_STATUSES.join(", ")}.`);
  return found;
}

export function typeId(value: string): string {
  const lower = value.toLowerCase();
  if (!/^[a-z0-9]{1,16}$/.test(lower))
    throw new InvalidArgumentError("expected a type id such as pdf or png.");
  return lower;
}
