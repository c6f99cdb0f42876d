//go:build race

package demodata

// raceDetector says the tests run under the race detector, which slows the market's pure-Go
// SQLite about twentyfold.
const raceDetector = true
