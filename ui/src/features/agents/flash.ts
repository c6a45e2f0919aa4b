/**
 * A message for the next agents page (e.g. "created", shown by the editor the form navigates to).
 * Kept in the module: it lives for one navigation inside the page, not across reloads. Read it in a
 * state initialiser with `peekFlash` and clear it in an effect (initialisers may run twice).
 */
let pending: string | null = null;

export function setFlash(message: string): void {
  pending = message;
}

export function peekFlash(): string | null {
  return pending;
}

export function clearFlash(): void {
  pending = null;
}
