// Tauri's isolation hook: sees every IPC message the UI sends, before Tauri encrypts it (with a key
// generated per launch) for the shell. What may be called is decided by the capabilities in
// src-tauri/capabilities/, checked in the shell; this hook only passes the message on. A rule added
// here must return the payload or throw: a throw leaves the UI's `invoke` promise unresolved.
window.__TAURI_ISOLATION_HOOK__ = (payload) => payload;
