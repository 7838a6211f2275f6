pub mod hooks;
pub mod index;
pub mod init;
pub mod parse;
pub mod search;
pub mod status;
