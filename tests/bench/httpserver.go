// Benchmark target: an HTTP server on 127.0.0.1 (port from the first
// argument, default 0 = any free one) whose handler allocates a little:
// a per-request buffer, a formatted line and a small map, so the Go heap
// sees steady churn. Prints "listening PORT" once it accepts connections.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
)

func handler(w http.ResponseWriter, r *http.Request) {
	buf := make([]byte, 512+len(r.URL.Path))
	copy(buf, r.URL.Path)
	hdr := map[string]int{"len": len(buf), "path": len(r.URL.Path)}
	line := fmt.Sprintf("hello %s %d %d\n", r.URL.Path, hdr["len"], hdr["path"])
	w.Header().Set("Content-Length", strconv.Itoa(len(line)))
	w.Write([]byte(line))
}

func main() {
	addr := "127.0.0.1:0"
	if len(os.Args) > 1 {
		addr = "127.0.0.1:" + os.Args[1]
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpserver:", err)
		os.Exit(1)
	}
	fmt.Printf("listening %d\n", ln.Addr().(*net.TCPAddr).Port)
	os.Stdout.Sync()
	http.HandleFunc("/", handler)
	if err := http.Serve(ln, nil); err != nil {
		fmt.Fprintln(os.Stderr, "httpserver:", err)
		os.Exit(1)
	}
}
