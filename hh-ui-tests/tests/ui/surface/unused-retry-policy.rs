// A retry policy that is dropped changes nothing: the compiler says so.
#![deny(unused_must_use)]

fn main() {
    hh_runtime::RetryPolicy::default().max_attempts(5);
}
