// Package jsonw appends JSON numbers and strings to byte slices without
// reflection. Numbers take the form Python's json module writes them (the
// Django stack's form, which the reference stack imitates so both stacks
// give identical bytes); the capture re-encodes the channel-layer tap the
// same way. (Session files keep encoding/json's form, their own writer's.)
package jsonw
