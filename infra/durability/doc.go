// Package durability holds end-to-end crash tests of the local runner: the
// real `lantau run` binary is killed with SIGKILL while clients write to it,
// restarted on the same data directory, and every write it acknowledged
// before the kill must still be there (events in the audit chain, objects in
// the bucket). It has no code of its own, only tests.
package durability
