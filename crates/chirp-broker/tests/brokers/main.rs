//! The brokers against real servers: the shared Redis and RabbitMQ for
//! fan-out between two instances, a private Redis server and a TCP proxy
//! in front of RabbitMQ for outages (see `support`).

mod amqp;
mod config;
mod in_process;
mod redis;
mod support;
