package bench

import (
	"bufio"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Machine describes the hardware and software a run measured.
type Machine struct {
	CPUs       int    // logical CPUs the operating system offers (nproc)
	GOMAXPROCS int    // the Go scheduler's processors during the run
	CPUModel   string // "model name" of /proc/cpuinfo, "" when unknown
	MemoryMiB  int64  // MemTotal of /proc/meminfo, 0 when unknown
	GoVersion  string
	OS, Arch   string
}

// DescribeMachine returns what the report says of this machine: CPUs,
// the CPU model and memory from /proc (left empty where /proc is missing),
// and the Go runtime's view.
func DescribeMachine() Machine {
	m := Machine{
		CPUs:       runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		GoVersion:  runtime.Version(),
		OS:         runtime.GOOS,
		Arch:       runtime.GOARCH,
	}
	m.CPUModel, _ = procField("/proc/cpuinfo", "model name")
	if v, err := procField("/proc/meminfo", "MemTotal"); err == nil {
		if kb, err := strconv.ParseInt(strings.TrimSuffix(v, " kB"), 10, 64); err == nil {
			m.MemoryMiB = kb / 1024
		}
	}
	return m
}

// procField returns the value of the first "key: value" line of a /proc
// file whose key is key.
func procField(path, key string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", errors.New("benchmarks: " + key + " not in " + path)
}
