package kernel

import "testing"

func TestParseNeighStat(t *testing.T) {
	st, err := parseNeighStat([]byte(`entries  allocs   destroys hash_grows lookups  hits     res_failed rcv_probes_mcast rcv_probes_ucast periodic_gc_runs forced_gc_runs unresolved_discards table_fulls
000003f0 00009f70 0000adba 00000005   0013cd4b 0002337e 000000ec   00000000         00000000         000003f9         00004e37       00000124            00000010
000003f0 0000a342 000094ea 00000003   0013b9e2 000264dd 000000f7   00000000         00000000         00000000         000054d2       000000d0            00000002
`))
	if err != nil || st.Entries != 1008 || st.Fulls != 18 {
		t.Fatalf("%+v, %v", st, err)
	}
}

func TestParseSockets(t *testing.T) {
	tcp := []byte(`  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 020F0A0A:0050 030F0A0A:C350 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 100 0 0 10 0
`)
	got := parseSockets(tcp, "tcp", "0A")
	if len(got) != 1 || got[0].IP.String() != "127.0.0.1" || got[0].Port != 8080 || got[0].Proto != "tcp" {
		t.Fatalf("%+v", got)
	}
	tcp6 := []byte(`  sl  local_address                         remote_address                        st
   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A
   1: 000080FE00000000FF0300007BE1FFFE:0035 00000000000000000000000000000000:0000 0A
`)
	got = parseSockets(tcp6, "tcp", "0A")
	if len(got) != 2 || !got[0].IP.IsUnspecified() || got[0].Port != 22 || got[1].IP.String() != "fe80::3ff:feff:e17b" {
		t.Fatalf("%+v", got)
	}
}
