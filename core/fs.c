/*
 * core/fs.c — listing a directory and removing a tree (see bunko/fs.h).
 */
#include "bunko/fs.h"

#include <dirent.h>
#include <ftw.h>
#include <sys/stat.h>

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void bk_names_free(char **names, size_t count)
{
	if (!names)
		return;
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
}

int bk_list_dir(const char *dir, char ***names, size_t *count, struct bk_error *err)
{
	DIR *d = opendir(dir);
	char **v = NULL;
	size_t n = 0, cap = 0;
	int rc = -1;

	*names = NULL;
	*count = 0;
	if (!d)
		return bk_error_set(err, "cannot open directory '%s': %s", dir,
				    strerror(errno));
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de)
			break;
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			char **nv = realloc(v, ncap * sizeof(*v));
			if (!nv)
				goto oom;
			v = nv;
			cap = ncap;
		}
		if (!(v[n] = strdup(de->d_name)))
			goto oom;
		n++;
	}
	if (errno) {
		bk_error_set(err, "cannot read directory '%s': %s", dir, strerror(errno));
		goto out;
	}
	if (n) /* qsort(NULL, 0, ...) is undefined */
		qsort(v, n, sizeof(*v), cmp_names);
	*names = v;
	*count = n;
	v = NULL;
	rc = 0;
	goto out;
oom:
	bk_error_set(err, "out of memory listing '%s'", dir);
out:
	bk_names_free(v, n);
	closedir(d);
	return rc;
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path) && errno != ENOENT ? -1 : 0;
}

int bk_rm_tree(const char *path, struct bk_error *err)
{
	if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) && errno != ENOENT)
		return bk_error_set(err, "cannot remove '%s': %s", path, strerror(errno));
	return 0;
}
