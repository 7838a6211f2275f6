pub mod init;
pub mod parse;
