// Command mmlite sends WhatsApp marketing campaigns through the Marketing
// Messages Lite API. This package only wires: flags and environment into
// configs, signals into a context, and calls the packages that do the work.
package main
