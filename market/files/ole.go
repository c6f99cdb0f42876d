package files

import (
	"encoding/binary"
	"errors"
	"io"
	"unicode/utf16"
)

// Legacy Office files (.doc, .ppt, .xls) are OLE2 compound files: a FAT file system inside a
// file. So are Windows installers (.msi) and Outlook messages, which we refuse, and encrypted
// OOXML documents. The directory's stream names tell them apart; this reader walks only the
// directory, with every chain bounded by the file's size, and never loads streams.

const (
	oleEndOfChain = 0xfffffffe
	oleFree       = 0xffffffff
	// oleMaxDirSectors bounds the directory: 10,000 sectors hold at least 40,000 entries.
	oleMaxDirSectors = 10_000
)

var errOLE = errors.New("malformed OLE2 compound file")

type oleFile struct {
	ra         io.ReaderAt
	size       int64
	sectorSize int64
	fatSectors []uint32
}

// oleNames lists the names in an OLE2 compound file's directory.
func oleNames(ra io.ReaderAt, size int64) ([]string, error) {
	var hdr [512]byte
	if _, err := ra.ReadAt(hdr[:], 0); err != nil {
		return nil, errOLE
	}
	le := binary.LittleEndian
	shift := le.Uint16(hdr[0x1e:])
	if shift != 9 && shift != 12 || le.Uint16(hdr[0x1c:]) != 0xfffe {
		return nil, errOLE
	}
	f := &oleFile{ra: ra, size: size, sectorSize: 1 << shift}
	maxSectors := size / f.sectorSize
	numFAT := int64(le.Uint32(hdr[0x2c:]))
	if numFAT == 0 || numFAT > maxSectors {
		return nil, errOLE
	}
	for i := 0; i < 109 && int64(len(f.fatSectors)) < numFAT; i++ {
		f.fatSectors = append(f.fatSectors, le.Uint32(hdr[0x4c+4*i:]))
	}
	// Further FAT sector numbers live in the DIFAT chain.
	difat := le.Uint32(hdr[0x44:])
	perDIFAT := int(f.sectorSize/4) - 1
	buf := make([]byte, f.sectorSize)
	for hops := int64(0); int64(len(f.fatSectors)) < numFAT; hops++ {
		if difat >= oleEndOfChain || hops > maxSectors {
			return nil, errOLE
		}
		if err := f.readSector(difat, buf); err != nil {
			return nil, err
		}
		for i := 0; i < perDIFAT && int64(len(f.fatSectors)) < numFAT; i++ {
			f.fatSectors = append(f.fatSectors, le.Uint32(buf[4*i:]))
		}
		difat = le.Uint32(buf[4*perDIFAT:])
	}

	var names []string
	sect := le.Uint32(hdr[0x30:])
	for n := 0; sect != oleEndOfChain; n++ {
		if n >= oleMaxDirSectors || int64(n) > maxSectors {
			return nil, errOLE
		}
		if err := f.readSector(sect, buf); err != nil {
			return nil, err
		}
		for off := 0; off+128 <= len(buf); off += 128 {
			e := buf[off : off+128]
			typ := e[66]
			nameLen := int(le.Uint16(e[64:]))
			if typ == 0 || nameLen < 2 || nameLen > 64 || nameLen%2 != 0 {
				continue
			}
			u := make([]uint16, nameLen/2-1)
			for i := range u {
				u[i] = le.Uint16(e[2*i:])
			}
			names = append(names, string(utf16.Decode(u)))
		}
		next, err := f.next(sect)
		if err != nil {
			return nil, err
		}
		sect = next
	}
	return names, nil
}

func (f *oleFile) readSector(n uint32, buf []byte) error {
	off := (int64(n) + 1) * f.sectorSize
	if n >= oleEndOfChain-3 || off+f.sectorSize > f.size {
		return errOLE
	}
	if _, err := f.ra.ReadAt(buf, off); err != nil {
		return errOLE
	}
	return nil
}

// next follows the FAT from sector n, reading the one FAT entry it needs.
func (f *oleFile) next(n uint32) (uint32, error) {
	per := uint32(f.sectorSize / 4)
	idx := n / per
	if int(idx) >= len(f.fatSectors) {
		return 0, errOLE
	}
	fatSect := f.fatSectors[idx]
	off := (int64(fatSect)+1)*f.sectorSize + int64(n%per)*4
	if fatSect >= oleEndOfChain-3 || off+4 > f.size {
		return 0, errOLE
	}
	var b [4]byte
	if _, err := f.ra.ReadAt(b[:], off); err != nil {
		return 0, errOLE
	}
	next := binary.LittleEndian.Uint32(b[:])
	if next == oleFree {
		return 0, errOLE
	}
	return next, nil
}

// classifyOLE decides what a compound file is from its directory names.
func classifyOLE(names []string) (format, Reason, string) {
	has := map[string]bool{}
	for _, n := range names {
		has[n] = true
	}
	switch {
	case has["EncryptedPackage"] || has["EncryptionInfo"]:
		return format{}, ReasonEncrypted, ""
	case has["Macros"] || has["_VBA_PROJECT_CUR"] || has["VBA"] || has["_VBA_PROJECT"]:
		return format{}, ReasonMacro, ""
	case has["WordDocument"]:
		return fmtDOC, "", ""
	case has["PowerPoint Document"]:
		return fmtPPT, "", ""
	case has["Workbook"] || has["Book"]:
		return fmtXLS, "", ""
	}
	return format{}, ReasonType, "OLE2 compound file (not Word, PowerPoint or Excel; an installer or message?)"
}
