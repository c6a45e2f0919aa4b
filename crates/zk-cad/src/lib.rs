//! CAD drawings for ZK-Agent: DXF (and DWG) bytes in, a drawing model and its diagnostics out.
//!
//! Architecture invariant: this crate does no I/O. It reads bytes it is given and returns values;
//! callers (zk-core) own files, threads, size caps and time budgets.
