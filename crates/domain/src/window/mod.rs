//! The window: check-in, queue tickets, walk-ins and the queue, for clerks at a post.
//! `rules` holds the pure decisions (ticket letters and numbers, the check-in window, the
//! queue's order); the operations that use them build on the visits in `booking`.

pub mod closing;
pub mod rules;
pub mod tickets;
pub mod visits;
