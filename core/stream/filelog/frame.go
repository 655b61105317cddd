package filelog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

const (
	segHeaderSize   = 16
	frameHeaderSize = 32
	segMagic        = "SPATESEG"
	frameMagic      = "SPF1"
	// maxFrameRows bounds the rows of one frame (the header holds a uint32).
	maxFrameRows = 1<<32 - 1
	// maxPayload bounds a frame's payload (the header holds a uint32).
	maxPayload = 1<<32 - 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var errBadFrame = errors.New("bad frame")

// frameHeader is the decoded header of a frame.
type frameHeader struct {
	length     uint32
	first      int64
	rows       uint32
	payloadCRC uint32
}

// putFrameHeader writes h into b[:frameHeaderSize].
func putFrameHeader(b []byte, h frameHeader) {
	_ = b[frameHeaderSize-1]
	copy(b[0:4], frameMagic)
	binary.LittleEndian.PutUint32(b[4:8], h.length)
	binary.LittleEndian.PutUint64(b[8:16], uint64(h.first))
	binary.LittleEndian.PutUint32(b[16:20], h.rows)
	binary.LittleEndian.PutUint32(b[20:24], 0)
	binary.LittleEndian.PutUint32(b[24:28], h.payloadCRC)
	binary.LittleEndian.PutUint32(b[28:32], crc32.Checksum(b[0:28], castagnoli))
}

// parseFrameHeader decodes and checks b[:frameHeaderSize].
func parseFrameHeader(b []byte) (frameHeader, error) {
	if len(b) < frameHeaderSize {
		return frameHeader{}, fmt.Errorf("%w: short header (%d bytes)", errBadFrame, len(b))
	}
	if string(b[0:4]) != frameMagic {
		return frameHeader{}, fmt.Errorf("%w: bad magic %q", errBadFrame, b[0:4])
	}
	if got, want := crc32.Checksum(b[0:28], castagnoli), binary.LittleEndian.Uint32(b[28:32]); got != want {
		return frameHeader{}, fmt.Errorf("%w: header checksum %08x, stored %08x", errBadFrame, got, want)
	}
	h := frameHeader{
		length:     binary.LittleEndian.Uint32(b[4:8]),
		first:      int64(binary.LittleEndian.Uint64(b[8:16])),
		rows:       binary.LittleEndian.Uint32(b[16:20]),
		payloadCRC: binary.LittleEndian.Uint32(b[24:28]),
	}
	if flags := binary.LittleEndian.Uint32(b[20:24]); flags != 0 {
		return frameHeader{}, fmt.Errorf("%w: unknown flags %x", errBadFrame, flags)
	}
	if h.rows == 0 || h.length < 8 || h.first < 0 {
		return frameHeader{}, fmt.Errorf("%w: %d rows, %d payload bytes, first %d", errBadFrame, h.rows, h.length, h.first)
	}
	return h, nil
}

// checkPayload verifies a payload against its header.
func checkPayload(h frameHeader, payload []byte) error {
	if got := crc32.Checksum(payload, castagnoli); got != h.payloadCRC {
		return fmt.Errorf("%w: payload checksum %08x, stored %08x", errBadFrame, got, h.payloadCRC)
	}
	return nil
}

// splitMessage splits an encapsulated IPC message into metadata and body.
func splitMessage(payload []byte) (meta, body []byte, err error) {
	if len(payload) < 8 || binary.LittleEndian.Uint32(payload[0:4]) != 0xFFFFFFFF {
		return nil, nil, fmt.Errorf("%w: payload is not an IPC message", errBadFrame)
	}
	n := int64(int32(binary.LittleEndian.Uint32(payload[4:8])))
	if n <= 0 || 8+n > int64(len(payload)) {
		return nil, nil, fmt.Errorf("%w: IPC metadata length %d in a %d-byte payload", errBadFrame, n, len(payload))
	}
	return payload[8 : 8+n], payload[8+n:], nil
}

func putSegHeader(b []byte, base int64) {
	copy(b[0:8], segMagic)
	binary.LittleEndian.PutUint64(b[8:16], uint64(base))
}

func checkSegHeader(b []byte, base int64) error {
	if len(b) < segHeaderSize {
		return fmt.Errorf("short segment header (%d bytes)", len(b))
	}
	if string(b[0:8]) != segMagic {
		return fmt.Errorf("bad segment magic %q", b[0:8])
	}
	if got := int64(binary.LittleEndian.Uint64(b[8:16])); got != base {
		return fmt.Errorf("segment header names base %d, file name %d", got, base)
	}
	return nil
}
