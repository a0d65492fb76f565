package bench

// The HTTP scenarios, by name.
const (
	ScenarioSignedCookie = "signed cookie"
	ScenarioMemory       = "server-side, memory"
	ScenarioDirectory    = "server-side, directory"
	ScenarioRedis        = "server-side, Redis"
)

// FloorLibrary is the Library of the contender that does a scenario's
// store round trips with the bare driver and no session library: what no
// library can avoid.
const FloorLibrary = "floor: go-redis GET + SET"

// HTTPResult is what one library adds to the request of a scenario.
type HTTPResult struct {
	Scenario string
	Library  string
	Note     string
	// NsPerOp is the time of a request through the library in its
	// fastest round, AllocsPerOp its allocations (the median over the
	// rounds); BareNsPerOp and BareAllocsPerOp are the same for the bare
	// handler given the same requests.
	NsPerOp, AllocsPerOp         float64
	BareNsPerOp, BareAllocsPerOp float64
	// OverheadNs and OverheadAllocs are the library's figures minus the
	// bare handler's: what the library adds to a request.
	OverheadNs, OverheadAllocs float64
	// AboveFloorNs is, on a scenario with a FloorLibrary contender, what
	// the library adds above that floor timed request by request: the
	// floor and the library serve a request each, in turn, and this is
	// the median of the library's time minus the floor's. A burst of load
	// lands on one request of a pair and hardly moves the median, where
	// it moves the difference of two rounds taken at different moments.
	// 0 for the floor itself and on scenarios without one.
	AboveFloorNs float64 `json:",omitempty"`
	// ServerCommands lists the commands a request sends to the server, on
	// the Redis scenario ("GET 1, SET 1"), from the server's command
	// statistics; "" elsewhere or when they could not be read.
	ServerCommands string `json:",omitempty"`
	// Err is why the contender has no numbers, "" when it has them.
	Err string `json:",omitempty"`
}
