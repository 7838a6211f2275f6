//! End-to-end tests: they drive the real `exo` binary (and real git, whose hooks call it)
//! in temporary vaults, and check results against the files themselves.

mod support;

mod answers;
mod check;
mod cli_basics;
mod crash;
mod faults;
mod garden;
mod gardener;
mod git_hooks;
mod graph;
mod graph_html;
mod hostile;
mod mcp;
mod mcp_http;
mod mcp_watch;
mod newcomer;
mod notify;
mod quickstart;
mod search;
mod snapshots;
mod storage;
mod sync;
mod vectors;
mod watch;
mod watch_vouch;
mod writes;
