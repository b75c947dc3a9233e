//! Tests of the real `chirp` binary as a child process: no acknowledged like
//! is lost when it is stopped or killed mid-storm (`durability`), and
//! `chirp script` runs a script against a running chirp (`script`).

mod durability;
mod limits;
mod loadtest;
mod pages;
mod privacy;
mod script;
mod server;
mod storm;
