package oidctest

// The npm package the harness runs, pinned. oidc-provider 9 declares no
// engines; on Node 20 it runs (Node prints an experimental warning or two).
const (
	PackageName    = "oidc-provider"
	PackageVersion = "9.13.3"
)
