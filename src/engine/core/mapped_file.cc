#include "engine/core/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sg {

StatusOr<std::shared_ptr<MappedFile>> MappedFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string msg = path + ": cannot open: " + std::strerror(err);
    return err == ENOENT ? NotFoundError(msg) : IoError(msg);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    std::string msg = path + ": cannot stat: " + std::strerror(errno);
    ::close(fd);
    return IoError(msg);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return InvalidArgumentError(path + ": not a regular file");
  }
  std::shared_ptr<MappedFile> file(new MappedFile());
  file->path_ = path;
  file->size_ = static_cast<uint64_t>(st.st_size);
  if (file->size_ > 0) {
    void* p = ::mmap(nullptr, file->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      std::string msg = path + ": mmap failed: " + std::strerror(errno);
      ::close(fd);
      return IoError(msg);
    }
    file->data_ = static_cast<const std::byte*>(p);
    file->is_mmap_ = true;
  }
  ::close(fd);  // the mapping stays valid after close
  return file;
}

std::shared_ptr<MappedFile> MappedFile::FromBytes(std::string name, const void* data, size_t size) {
  std::shared_ptr<MappedFile> file(new MappedFile());
  file->path_ = std::move(name);
  file->size_ = size;
  if (size > 0) {
    auto* copy = new std::byte[size];
    std::memcpy(copy, data, size);
    file->data_ = copy;
  }
  return file;
}

void MappedFile::AdviseWillNeed(uint64_t offset, uint64_t length) const {
  if (!is_mmap_ || offset >= size_) return;
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t begin = offset / page * page;  // madvise wants a page-aligned start
  const uint64_t end = std::min(size_, offset + std::min(length, size_ - offset));
  ::madvise(const_cast<std::byte*>(data_) + begin, end - begin, MADV_WILLNEED);
}

void MappedFile::ReleaseResidentPages() const {
  if (!is_mmap_ || size_ == 0) return;
  ::madvise(const_cast<std::byte*>(data_), size_, MADV_DONTNEED);
}

MappedFile::~MappedFile() {
  if (data_ == nullptr) return;
  if (is_mmap_) {
    ::munmap(const_cast<std::byte*>(data_), size_);
  } else {
    delete[] data_;
  }
}

}  // namespace sg
