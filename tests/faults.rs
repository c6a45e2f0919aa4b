//! Faults (placeholder until written).
