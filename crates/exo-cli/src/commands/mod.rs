pub mod hooks;
pub mod index;
pub mod init;
pub mod parse;
pub mod status;
