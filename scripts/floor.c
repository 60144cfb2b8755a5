/*
 * floor: the least work a walk that lstat's every entry can do, as a yard
 * stick for `drift check` in scripts/bench.sh (not part of drift).
 *
 *   cc -O2 -pthread -o floor scripts/floor.c && ./floor ROOT [THREADS]
 *
 * THREADS threads (default 2) share a stack of directory paths. Each opens a
 * directory (O_NOFOLLOW), reads it with getdents64, fstatat()s every entry
 * with AT_SYMLINK_NOFOLLOW and pushes the subdirectories on ROOT's device.
 * Nothing is kept, classified or printed: what is left is the system calls
 * drift's walk cannot avoid, so `drift check` can be no faster than this.
 * Prints the number of entries stat'ed on stderr.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct dirent64 {
	unsigned long long d_ino;
	long long d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static char **stack;
static long nstack, capstack, busy, entries;
static dev_t rootdev;

static void push(char *p)
{
	if (nstack == capstack) {
		capstack = capstack ? 2 * capstack : 1024;
		stack = realloc(stack, capstack * sizeof *stack);
		if (!stack) {
			perror("realloc");
			exit(2);
		}
	}
	stack[nstack++] = p;
}

static void *worker(void *arg)
{
	static __thread char buf[32768];
	long n = 0;
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&mu);
		while (nstack == 0 && busy > 0)
			pthread_cond_wait(&cv, &mu);
		if (nstack == 0) {
			pthread_cond_broadcast(&cv);
			pthread_mutex_unlock(&mu);
			break;
		}
		char *dir = stack[--nstack];
		busy++;
		pthread_mutex_unlock(&mu);
		int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		for (long nr; fd >= 0 && (nr = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0;) {
			for (long off = 0; off < nr;) {
				struct dirent64 *d = (void *)(buf + off);
				struct stat st;
				off += d->d_reclen;
				if (d->d_name[0] == '.' && (!d->d_name[1] || (d->d_name[1] == '.' && !d->d_name[2])))
					continue;
				n++;
				if (fstatat(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISDIR(st.st_mode) || st.st_dev != rootdev)
					continue;
				size_t l = strlen(dir), m = strlen(d->d_name);
				char *p = malloc(l + m + 2);
				if (!p) {
					perror("malloc");
					exit(2);
				}
				memcpy(p, dir, l);
				p[l] = '/';
				memcpy(p + l + 1, d->d_name, m + 1);
				pthread_mutex_lock(&mu);
				push(p);
				pthread_cond_signal(&cv);
				pthread_mutex_unlock(&mu);
			}
		}
		if (fd >= 0)
			close(fd);
		free(dir);
		pthread_mutex_lock(&mu);
		if (--busy == 0 && nstack == 0)
			pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&mu);
	}
	__atomic_add_fetch(&entries, n, __ATOMIC_RELAXED);
	return 0;
}

int main(int argc, char **argv)
{
	struct stat st;
	pthread_t th[256];
	int t = argc > 2 ? atoi(argv[2]) : 2;
	if (argc < 2 || t < 1 || t > 256) {
		fprintf(stderr, "usage: floor ROOT [THREADS 1..256]\n");
		return 2;
	}
	if (stat(argv[1], &st)) {
		perror(argv[1]);
		return 2;
	}
	rootdev = st.st_dev;
	push(strdup(argv[1]));
	for (int i = 0; i < t; i++)
		pthread_create(&th[i], 0, worker, 0);
	for (int i = 0; i < t; i++)
		pthread_join(th[i], 0);
	fprintf(stderr, "floor: %ld entries\n", entries);
	return 0;
}
