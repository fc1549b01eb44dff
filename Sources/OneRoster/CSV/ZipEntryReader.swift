import Foundation
import ZIPFoundation

/// Reads an entry's bytes from a zip within the bounds its central directory gives.
///
/// ZIPFoundation 0.9.20 lists a zip's entries well, but on Linux its inflater hands zlib a
/// full buffer even when the file had fewer bytes left (zlib then reads memory past them) and
/// loops until the deflate stream ends: a damaged stream that never ends spins forever, and
/// whether it does depends on that memory. So the bytes are read here: from the entry's own
/// data offset, never past its compressed size, in whole buffers (the last one padded with
/// zeros, which end any deflate stream left open with an error), and checked against the CRC.
struct ZipEntryReader {
    struct Damaged: Error, CustomStringConvertible {
        var description: String
    }

    /// An entry bigger, or compressed better, than ``CSVLimits`` allow: refused before or while
    /// it inflates, so a zip bomb costs a moment and a buffer, not minutes and gigabytes.
    struct Refused: Error, CustomStringConvertible {
        var description: String
    }

    /// Where each entry's local header starts, in central-directory order.
    let localHeaderOffsets: [UInt64]
    private let handle: FileHandle
    private let fileSize: UInt64

    init(url: URL) throws {
        handle = try FileHandle(forReadingFrom: url)
        fileSize = try handle.seekToEnd()
        localHeaderOffsets = try Self.centralDirectory(handle, fileSize: fileSize)
    }

    /// Passes the entry's uncompressed bytes to `consumer`, a chunk at a time, refusing it
    /// (``Refused``) once it is larger or inflates further than `limits` allow: first by the
    /// sizes the central directory declares, then by the bytes that actually come out, since
    /// declared sizes can lie.
    func stream(
        _ entry: Entry, localHeaderOffset: UInt64, bufferSize: Int, limits: CSVLimits = .standard,
        into consumer: (Data) throws -> Void
    ) throws {
        let ratio = UInt64(max(1, limits.maxCompressionRatio))
        func tooLarge(_ bytes: UInt64) -> Refused {
            Refused(description: "inflates to more than \(limits.maxEntryBytes) bytes (\(bytes) or more), the most one file may hold (csv.maxEntryBytes)")
        }
        func tooCompressed(_ bytes: UInt64, from compressed: UInt64) -> Refused {
            Refused(
                description: "inflates to more than \(ratio) times its size in the zip (\(bytes) bytes from \(compressed)); "
                    + "no roster export compresses like that, so it is refused as a likely zip bomb (csv.maxCompressionRatio)")
        }
        let declared = entry.uncompressedSize
        if declared > UInt64(max(0, limits.maxEntryBytes)) { throw tooLarge(declared) }
        if declared > UInt64(max(0, limits.ratioCheckAfterBytes)), declared / max(1, entry.compressedSize) >= ratio {
            throw tooCompressed(declared, from: entry.compressedSize)
        }
        let header = try read(at: localHeaderOffset, count: 30)
        guard header.count == 30, Self.uint32(header, 0) == 0x0403_4B50 else { throw Damaged(description: "an entry's local header is missing") }
        let method = Self.uint16(header, 8)
        let dataOffset = localHeaderOffset + 30 + UInt64(Self.uint16(header, 26)) + UInt64(Self.uint16(header, 28))
        let size = entry.compressedSize
        guard dataOffset <= fileSize, size <= fileSize - dataOffset else {
            throw Damaged(description: "an entry claims \(size) bytes, more than the file holds")
        }
        var position = dataOffset
        let end = dataOffset + size
        var checksum: CRC32 = 0
        switch method {
        case 0:
            if size > UInt64(max(0, limits.maxEntryBytes)) { throw tooLarge(size) }
            while position < end {
                let chunk = try read(at: position, count: Int(min(UInt64(bufferSize), end - position)))
                guard !chunk.isEmpty else { throw Damaged(description: "an entry ends early") }
                position += UInt64(chunk.count)
                checksum = chunk.crc32(checksum: checksum)
                try consumer(chunk)
            }
        case 8:
            var produced: UInt64 = 0
            let guarded: (Data) throws -> Void = { chunk in
                produced += UInt64(chunk.count)
                if produced > UInt64(max(0, limits.maxEntryBytes)) { throw tooLarge(produced) }
                if produced > declared {
                    // Past the entry's last byte only the zeros padding the last read are inflating.
                    if position >= end { throw Damaged(description: "an entry's deflate stream does not end within its bytes") }
                    throw Refused(description: "inflates to more than the \(declared) bytes its zip entry declares; the zip is damaged or was made to mislead")
                }
                let read = max(1, position - dataOffset)
                if produced > UInt64(max(0, limits.ratioCheckAfterBytes)), produced / read >= ratio {
                    throw tooCompressed(produced, from: read)
                }
                try consumer(chunk)
            }
            checksum = try Data.decompress(
                size: Int64(size), bufferSize: bufferSize, skipCRC32: false,
                provider: { _, chunkSize in
                    // Past the entry's last byte there is nothing more to give: the stream did not end.
                    guard position < end else { throw Damaged(description: "an entry's deflate stream does not end within its bytes") }
                    var chunk = try read(at: position, count: Int(min(UInt64(chunkSize), end - position)))
                    guard !chunk.isEmpty else { throw Damaged(description: "an entry ends early") }
                    position += UInt64(chunk.count)
                    if chunk.count < chunkSize { chunk.append(Data(count: chunkSize - chunk.count)) }
                    return chunk
                }, consumer: guarded)
        default:
            throw Damaged(description: "an entry uses compression method \(method); only stored and deflate are read")
        }
        guard checksum == entry.checksum else { throw Damaged(description: "an entry's bytes do not match its checksum (CRC-32)") }
    }

    private func read(at offset: UInt64, count: Int) throws -> Data {
        try handle.seek(toOffset: offset)
        return try handle.read(upToCount: count) ?? Data()
    }

    static func uint16(_ d: Data, _ at: Int) -> UInt16 {
        let i = d.startIndex + at
        return UInt16(d[i]) | UInt16(d[i + 1]) << 8
    }

    static func uint32(_ d: Data, _ at: Int) -> UInt32 {
        UInt32(uint16(d, at)) | UInt32(uint16(d, at + 2)) << 16
    }

    static func uint64(_ d: Data, _ at: Int) -> UInt64 {
        UInt64(uint32(d, at)) | UInt64(uint32(d, at + 4)) << 32
    }

    /// The local header offsets of the central directory's records (zip64 included).
    static func centralDirectory(_ handle: FileHandle, fileSize: UInt64) throws -> [UInt64] {
        func read(_ offset: UInt64, _ count: Int) throws -> Data {
            try handle.seek(toOffset: offset)
            return try handle.read(upToCount: count) ?? Data()
        }
        let tailSize = min(fileSize, 22 + 65_535)
        let tail = try read(fileSize - tailSize, Int(tailSize))
        guard tail.count >= 22, let eocd = stride(from: tail.count - 22, through: 0, by: -1).first(where: { uint32(tail, $0) == 0x0605_4B50 }) else {
            throw Damaged(description: "it has no end of central directory record")
        }
        var count = UInt64(uint16(tail, eocd + 10))
        var directorySize = UInt64(uint32(tail, eocd + 12))
        var directoryOffset = UInt64(uint32(tail, eocd + 16))
        if count == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF, eocd >= 20, uint32(tail, eocd - 20) == 0x0706_4B50 {
            let zip64 = try read(uint64(tail, eocd - 20 + 8), 56)
            guard zip64.count == 56, uint32(zip64, 0) == 0x0606_4B50 else { throw Damaged(description: "its zip64 end record is missing") }
            count = uint64(zip64, 32)
            directorySize = uint64(zip64, 40)
            directoryOffset = uint64(zip64, 48)
        }
        guard directoryOffset <= fileSize, directorySize <= fileSize - directoryOffset, count <= directorySize / 46 + 1 else {
            throw Damaged(description: "its central directory lies outside the file")
        }
        let directory = try read(directoryOffset, Int(directorySize))
        var offsets: [UInt64] = []
        var at = 0
        while offsets.count < count, at + 46 <= directory.count, uint32(directory, at) == 0x0201_4B50 {
            let nameLength = Int(uint16(directory, at + 28)), extraLength = Int(uint16(directory, at + 30)), commentLength = Int(uint16(directory, at + 32))
            var offset = UInt64(uint32(directory, at + 42))
            if offset == 0xFFFF_FFFF {
                // The zip64 extra field holds, in this order, only the sizes and offset that overflowed.
                var extra = at + 46 + nameLength
                let extraEnd = min(directory.count, extra + extraLength)
                while extra + 4 <= extraEnd {
                    let id = uint16(directory, extra), length = Int(uint16(directory, extra + 2))
                    if id == 0x0001 {
                        var field = extra + 4
                        if uint32(directory, at + 24) == 0xFFFF_FFFF { field += 8 }
                        if uint32(directory, at + 20) == 0xFFFF_FFFF { field += 8 }
                        if field + 8 <= min(extraEnd, extra + 4 + length) { offset = uint64(directory, field) }
                        break
                    }
                    extra += 4 + length
                }
            }
            offsets.append(offset)
            at += 46 + nameLength + extraLength + commentLength
        }
        return offsets
    }
}
