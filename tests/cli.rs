//! The `zk-agent` binary (placeholder until written).
