//! End-to-end tests: they drive the real `exo` binary (and real git, whose hooks call it)
//! in temporary vaults, and check results against the files themselves.

mod support;

mod answers;
mod cli_basics;
mod crash;
mod faults;
mod garden;
mod gardener;
mod git_hooks;
mod graph;
mod hostile;
mod newcomer;
mod quickstart;
mod search;
mod snapshots;
mod storage;
mod sync;
mod vectors;
