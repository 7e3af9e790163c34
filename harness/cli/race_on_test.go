//go:build race

package cli

// raceEnabled: the race detector slows the harness's own subscribers several
// times over, so timing budgets in tests are scaled up under it.
const raceEnabled = true
