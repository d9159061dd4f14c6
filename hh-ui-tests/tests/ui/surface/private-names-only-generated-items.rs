// `__private` holds exactly what generated code names: the client is not reachable through it.

use hh_runtime::__private::Client;

fn main() {}
