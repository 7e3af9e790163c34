//go:build !race

package load

// raceEnabled scales the end-to-end tests down under the race detector,
// which makes every operation several times slower.
const raceEnabled = false
