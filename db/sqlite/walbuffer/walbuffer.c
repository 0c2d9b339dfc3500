/*
 * A VFS that wraps SQLite's default one and gathers the writes SQLite makes
 * to a write-ahead log into one buffer, which reaches the file in a single
 * write just before the log is synced. See walbuffer.go for why this is
 * safe and when it may be used.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_vfs.h"

/* Room for a commit of 30 4-KiB pages; larger transactions are written in
 * pieces of at most this size. The unix VFS writes at most 128 KiB - 1
 * bytes per call (it masks the length with 0x1ffff), so a flush must stay
 * below that. */
#define BUFFER_CAPACITY (124 * 1024)

typedef struct bufferedFile {
	sqlite3_file base;
	/* The wrapped VFS's file object, allocated right after this struct. */
	sqlite3_file *real;
	/* Only write-ahead logs are buffered; every other file passes through. */
	int isWAL;
	/* Bytes waiting to be written at offset start; len is 0 when empty. */
	char *buf;
	int len;
	sqlite3_int64 start;
} bufferedFile;

static sqlite3_vfs *rootVFS(sqlite3_vfs *vfs) { return (sqlite3_vfs *)vfs->pAppData; }

static const sqlite3_io_methods *realMethods(sqlite3_file *f) {
	return ((bufferedFile *)f)->real->pMethods;
}

/* flush writes the pending bytes. They are dropped even if the write fails,
 * so that an error is reported once and stale bytes never land later, out
 * of order; SQLite then fails the transaction that wrote them. */
static int flush(bufferedFile *p) {
	if (p->len == 0) {
		return SQLITE_OK;
	}
	int len = p->len;
	p->len = 0;
	return p->real->pMethods->xWrite(p->real, p->buf, len, p->start);
}

static int bufClose(sqlite3_file *f) {
	bufferedFile *p = (bufferedFile *)f;
	int rc = flush(p);
	int crc = p->real->pMethods->xClose(p->real);
	free(p->buf);
	p->buf = NULL;
	return rc != SQLITE_OK ? rc : crc;
}

static int bufRead(sqlite3_file *f, void *out, int amt, sqlite3_int64 off) {
	bufferedFile *p = (bufferedFile *)f;
	int rc = flush(p);
	return rc != SQLITE_OK ? rc : p->real->pMethods->xRead(p->real, out, amt, off);
}

static int bufWrite(sqlite3_file *f, const void *data, int amt, sqlite3_int64 off) {
	bufferedFile *p = (bufferedFile *)f;
	if (!p->isWAL) {
		return p->real->pMethods->xWrite(p->real, data, amt, off);
	}
	if (p->len > 0 && off == p->start + p->len && amt <= BUFFER_CAPACITY - p->len) {
		memcpy(p->buf + p->len, data, amt);
		p->len += amt;
		return SQLITE_OK;
	}
	/* Not a continuation of the pending bytes (or no room for it): those go
	 * first, so writes reach the file in the order SQLite made them. */
	int rc = flush(p);
	if (rc != SQLITE_OK) {
		return rc;
	}
	if (p->buf == NULL && amt <= BUFFER_CAPACITY) {
		p->buf = malloc(BUFFER_CAPACITY);
	}
	if (p->buf == NULL || amt > BUFFER_CAPACITY) {
		return p->real->pMethods->xWrite(p->real, data, amt, off);
	}
	memcpy(p->buf, data, amt);
	p->start = off;
	p->len = amt;
	return SQLITE_OK;
}

static int bufTruncate(sqlite3_file *f, sqlite3_int64 size) {
	bufferedFile *p = (bufferedFile *)f;
	int rc = flush(p);
	return rc != SQLITE_OK ? rc : p->real->pMethods->xTruncate(p->real, size);
}

static int bufSync(sqlite3_file *f, int flags) {
	bufferedFile *p = (bufferedFile *)f;
	int rc = flush(p);
	return rc != SQLITE_OK ? rc : p->real->pMethods->xSync(p->real, flags);
}

static int bufFileSize(sqlite3_file *f, sqlite3_int64 *size) {
	bufferedFile *p = (bufferedFile *)f;
	int rc = flush(p);
	return rc != SQLITE_OK ? rc : p->real->pMethods->xFileSize(p->real, size);
}

static int bufLock(sqlite3_file *f, int level) {
	return realMethods(f)->xLock(((bufferedFile *)f)->real, level);
}

static int bufUnlock(sqlite3_file *f, int level) {
	return realMethods(f)->xUnlock(((bufferedFile *)f)->real, level);
}

static int bufCheckReservedLock(sqlite3_file *f, int *out) {
	return realMethods(f)->xCheckReservedLock(((bufferedFile *)f)->real, out);
}

static int bufFileControl(sqlite3_file *f, int op, void *arg) {
	bufferedFile *p = (bufferedFile *)f;
	int rc = flush(p);
	return rc != SQLITE_OK ? rc : p->real->pMethods->xFileControl(p->real, op, arg);
}

static int bufSectorSize(sqlite3_file *f) {
	return realMethods(f)->xSectorSize(((bufferedFile *)f)->real);
}

static int bufDeviceCharacteristics(sqlite3_file *f) {
	return realMethods(f)->xDeviceCharacteristics(((bufferedFile *)f)->real);
}

static int bufShmMap(sqlite3_file *f, int page, int pageSize, int extend, void volatile **pp) {
	return realMethods(f)->xShmMap(((bufferedFile *)f)->real, page, pageSize, extend, pp);
}

static int bufShmLock(sqlite3_file *f, int offset, int n, int flags) {
	return realMethods(f)->xShmLock(((bufferedFile *)f)->real, offset, n, flags);
}

static void bufShmBarrier(sqlite3_file *f) {
	realMethods(f)->xShmBarrier(((bufferedFile *)f)->real);
}

static int bufShmUnmap(sqlite3_file *f, int deleteFlag) {
	return realMethods(f)->xShmUnmap(((bufferedFile *)f)->real, deleteFlag);
}

static int bufFetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **pp) {
	bufferedFile *p = (bufferedFile *)f;
	int rc = flush(p);
	return rc != SQLITE_OK ? rc : p->real->pMethods->xFetch(p->real, off, amt, pp);
}

static int bufUnfetch(sqlite3_file *f, sqlite3_int64 off, void *ptr) {
	return realMethods(f)->xUnfetch(((bufferedFile *)f)->real, off, ptr);
}

/* Offered only for files whose wrapped methods are version 3 (the unix
 * VFS's are); older ones get the version-1 table, without shared memory,
 * and SQLite then refuses WAL mode rather than misbehaving. */
static const sqlite3_io_methods methodsV3 = {
	3,
	bufClose, bufRead, bufWrite, bufTruncate, bufSync, bufFileSize,
	bufLock, bufUnlock, bufCheckReservedLock, bufFileControl,
	bufSectorSize, bufDeviceCharacteristics,
	bufShmMap, bufShmLock, bufShmBarrier, bufShmUnmap,
	bufFetch, bufUnfetch,
};

static const sqlite3_io_methods methodsV1 = {
	1,
	bufClose, bufRead, bufWrite, bufTruncate, bufSync, bufFileSize,
	bufLock, bufUnlock, bufCheckReservedLock, bufFileControl,
	bufSectorSize, bufDeviceCharacteristics,
	0, 0, 0, 0, 0, 0,
};

static int vfsOpen(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *outFlags) {
	bufferedFile *p = (bufferedFile *)f;
	memset(p, 0, sizeof(*p));
	p->real = (sqlite3_file *)&p[1];
	p->isWAL = (flags & SQLITE_OPEN_WAL) != 0;
	int rc = rootVFS(vfs)->xOpen(rootVFS(vfs), name, p->real, flags, outFlags);
	/* SQLite calls xClose whenever pMethods is set, even after a failed
	 * open, so it is set exactly when the wrapped file needs closing. */
	if (p->real->pMethods != NULL) {
		p->base.pMethods = p->real->pMethods->iVersion >= 3 ? &methodsV3 : &methodsV1;
	}
	return rc;
}

static int vfsDelete(sqlite3_vfs *vfs, const char *name, int syncDir) {
	return rootVFS(vfs)->xDelete(rootVFS(vfs), name, syncDir);
}

static int vfsAccess(sqlite3_vfs *vfs, const char *name, int flags, int *out) {
	return rootVFS(vfs)->xAccess(rootVFS(vfs), name, flags, out);
}

static int vfsFullPathname(sqlite3_vfs *vfs, const char *name, int n, char *out) {
	return rootVFS(vfs)->xFullPathname(rootVFS(vfs), name, n, out);
}

static void *vfsDlOpen(sqlite3_vfs *vfs, const char *name) {
	return rootVFS(vfs)->xDlOpen(rootVFS(vfs), name);
}

static void vfsDlError(sqlite3_vfs *vfs, int n, char *msg) {
	rootVFS(vfs)->xDlError(rootVFS(vfs), n, msg);
}

static void (*vfsDlSym(sqlite3_vfs *vfs, void *handle, const char *symbol))(void) {
	return rootVFS(vfs)->xDlSym(rootVFS(vfs), handle, symbol);
}

static void vfsDlClose(sqlite3_vfs *vfs, void *handle) {
	rootVFS(vfs)->xDlClose(rootVFS(vfs), handle);
}

static int vfsRandomness(sqlite3_vfs *vfs, int n, char *out) {
	return rootVFS(vfs)->xRandomness(rootVFS(vfs), n, out);
}

static int vfsSleep(sqlite3_vfs *vfs, int micros) {
	return rootVFS(vfs)->xSleep(rootVFS(vfs), micros);
}

static int vfsCurrentTime(sqlite3_vfs *vfs, double *out) {
	return rootVFS(vfs)->xCurrentTime(rootVFS(vfs), out);
}

static int vfsGetLastError(sqlite3_vfs *vfs, int n, char *out) {
	return rootVFS(vfs)->xGetLastError(rootVFS(vfs), n, out);
}

static int vfsCurrentTimeInt64(sqlite3_vfs *vfs, sqlite3_int64 *out) {
	return rootVFS(vfs)->xCurrentTimeInt64(rootVFS(vfs), out);
}

static int vfsSetSystemCall(sqlite3_vfs *vfs, const char *name, sqlite3_syscall_ptr fn) {
	return rootVFS(vfs)->xSetSystemCall(rootVFS(vfs), name, fn);
}

static sqlite3_syscall_ptr vfsGetSystemCall(sqlite3_vfs *vfs, const char *name) {
	return rootVFS(vfs)->xGetSystemCall(rootVFS(vfs), name);
}

static const char *vfsNextSystemCall(sqlite3_vfs *vfs, const char *name) {
	return rootVFS(vfs)->xNextSystemCall(rootVFS(vfs), name);
}

/* SQLite keeps a pointer to the registered VFS for the life of the process,
 * so it lives in static storage, filled in once. */
static sqlite3_vfs bufferedVFS;
static int registerResult = SQLITE_ERROR;
static pthread_once_t registerOnce = PTHREAD_ONCE_INIT;

static void registerVFS(void) {
	sqlite3_vfs *root = sqlite3_vfs_find(0);
	if (root == NULL) {
		return;
	}
	bufferedVFS.iVersion = root->iVersion < 3 ? root->iVersion : 3;
	bufferedVFS.szOsFile = (int)sizeof(bufferedFile) + root->szOsFile;
	bufferedVFS.mxPathname = root->mxPathname;
	bufferedVFS.zName = "anavara-walbuffer";
	bufferedVFS.pAppData = root;
	bufferedVFS.xOpen = vfsOpen;
	bufferedVFS.xDelete = vfsDelete;
	bufferedVFS.xAccess = vfsAccess;
	bufferedVFS.xFullPathname = vfsFullPathname;
	bufferedVFS.xDlOpen = vfsDlOpen;
	bufferedVFS.xDlError = vfsDlError;
	bufferedVFS.xDlSym = vfsDlSym;
	bufferedVFS.xDlClose = vfsDlClose;
	bufferedVFS.xRandomness = vfsRandomness;
	bufferedVFS.xSleep = vfsSleep;
	bufferedVFS.xCurrentTime = vfsCurrentTime;
	bufferedVFS.xGetLastError = vfsGetLastError;
	if (bufferedVFS.iVersion >= 2) {
		bufferedVFS.xCurrentTimeInt64 = vfsCurrentTimeInt64;
	}
	if (bufferedVFS.iVersion >= 3) {
		bufferedVFS.xSetSystemCall = vfsSetSystemCall;
		bufferedVFS.xGetSystemCall = vfsGetSystemCall;
		bufferedVFS.xNextSystemCall = vfsNextSystemCall;
	}
	registerResult = sqlite3_vfs_register(&bufferedVFS, 0);
}

/* anavara_walbuffer_register registers the VFS once per process and returns
 * SQLite's result code. */
int anavara_walbuffer_register(void) {
	pthread_once(&registerOnce, registerVFS);
	return registerResult;
}
