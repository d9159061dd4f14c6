// hh's API names no `secrecy` type, so a new `secrecy` is not a breaking change of hh's: the
// token is hh's own `AccessToken`, read with its `expose_secret` method.

use hh_runtime::SecretString;

fn main() {}
