//! The web site over real HTTP, in front of the real API on a temporary
//! SQLite database, driven like a browser without JavaScript.

mod features;
mod helpers;
mod pages;
mod security;
mod social;
mod words;
