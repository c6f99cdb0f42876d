//go:build !race

package demodata

const raceDetector = false
