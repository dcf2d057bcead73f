// SmallVector<T, N>: a vector that keeps its first N elements inside the object and goes to the heap only
// beyond them. Shapes (rank <= 6 in every network here) and the lists of an op's inputs and gradients are
// built and dropped by the hundred in every training step; as std::vectors each was a call to operator new.
// The interface is std::vector's (the parts the library uses), and it converts to and from std::vector<T>
// so that code written against vectors keeps compiling. Not a replacement for std::vector in general:
// moving one with inline elements moves them one by one.
#pragma once
#include <algorithm>
#include <compare>
#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace xgrad {

template <class T, std::size_t N>
class SmallVector {
  static_assert(N > 0, "SmallVector: an inline capacity of at least one");

 public:
  using value_type = T;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using reference = T&;
  using const_reference = const T&;
  using pointer = T*;
  using const_pointer = const T*;
  using iterator = T*;
  using const_iterator = const T*;
  using reverse_iterator = std::reverse_iterator<iterator>;
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;

  SmallVector() noexcept {}
  SmallVector(std::initializer_list<T> list) { append(list.begin(), list.end()); }
  explicit SmallVector(size_type n, const T& value = T()) { resize(n, value); }
  template <std::input_iterator It>
  SmallVector(It first, It last) {
    append(first, last);
  }
  SmallVector(const std::vector<T>& v) { append(v.begin(), v.end()); }  // NOLINT: implicit, for interop
  SmallVector(const SmallVector& other) { append(other.begin(), other.end()); }
  SmallVector(SmallVector&& other) noexcept { take(std::move(other)); }
  ~SmallVector() {
    clear();
    free_heap();
  }

  SmallVector& operator=(const SmallVector& other) {
    if (this != &other) assign(other.begin(), other.end());
    return *this;
  }
  SmallVector& operator=(SmallVector&& other) noexcept {
    if (this != &other) {
      clear();
      free_heap();
      take(std::move(other));
    }
    return *this;
  }
  SmallVector& operator=(std::initializer_list<T> list) {
    assign(list.begin(), list.end());
    return *this;
  }
  operator std::vector<T>() const { return std::vector<T>(begin(), end()); }  // NOLINT: implicit

  template <std::input_iterator It>
  void assign(It first, It last) {
    clear();
    append(first, last);
  }
  void assign(size_type n, const T& value) {
    clear();
    resize(n, value);
  }

  size_type size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  size_type capacity() const noexcept { return capacity_; }
  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  T& operator[](size_type i) { return data_[i]; }
  const T& operator[](size_type i) const { return data_[i]; }
  T& front() { return data_[0]; }
  const T& front() const { return data_[0]; }
  T& back() { return data_[size_ - 1]; }
  const T& back() const { return data_[size_ - 1]; }

  iterator begin() noexcept { return data_; }
  iterator end() noexcept { return data_ + size_; }
  const_iterator begin() const noexcept { return data_; }
  const_iterator end() const noexcept { return data_ + size_; }
  const_iterator cbegin() const noexcept { return data_; }
  const_iterator cend() const noexcept { return data_ + size_; }
  reverse_iterator rbegin() noexcept { return reverse_iterator(end()); }
  reverse_iterator rend() noexcept { return reverse_iterator(begin()); }
  const_reverse_iterator rbegin() const noexcept { return const_reverse_iterator(end()); }
  const_reverse_iterator rend() const noexcept { return const_reverse_iterator(begin()); }

  void reserve(size_type n) {
    if (n > capacity_) grow_to(n);
  }
  void clear() noexcept {
    std::destroy(begin(), end());
    size_ = 0;
  }
  void push_back(const T& value) { emplace_back(value); }
  void push_back(T&& value) { emplace_back(std::move(value)); }
  template <class... Args>
  T& emplace_back(Args&&... args) {
    if (size_ == capacity_) {
      T value(std::forward<Args>(args)...);  // built before growing: args may refer to an element
      grow_to(2 * capacity_);
      ::new (static_cast<void*>(data_ + size_)) T(std::move(value));
    } else {
      ::new (static_cast<void*>(data_ + size_)) T(std::forward<Args>(args)...);
    }
    return data_[size_++];
  }
  void pop_back() { std::destroy_at(data_ + --size_); }
  void resize(size_type n) { resize_with(n, [](T* p) { ::new (static_cast<void*>(p)) T(); }); }
  void resize(size_type n, const T& value) {
    const T copy(value);
    resize_with(n, [&copy](T* p) { ::new (static_cast<void*>(p)) T(copy); });
  }

  // Inserts at the end, then rotates into place: shapes and input lists are a few elements long.
  iterator insert(const_iterator pos, const T& value) {
    const size_type at = index(pos);
    push_back(value);
    std::rotate(begin() + at, end() - 1, end());
    return begin() + at;
  }
  template <std::input_iterator It>
  iterator insert(const_iterator pos, It first, It last) {
    const size_type at = index(pos), old = size_;
    append(first, last);
    std::rotate(begin() + at, begin() + old, end());
    return begin() + at;
  }
  iterator insert(const_iterator pos, std::initializer_list<T> list) { return insert(pos, list.begin(), list.end()); }
  iterator erase(const_iterator pos) { return erase(pos, pos + 1); }
  iterator erase(const_iterator first, const_iterator last) {
    const size_type from = index(first), to = index(last);
    std::move(begin() + to, end(), begin() + from);
    const size_type n = size_ - (to - from);
    std::destroy(begin() + n, end());
    size_ = n;
    return begin() + from;
  }

  friend bool operator==(const SmallVector& a, const SmallVector& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }
  friend auto operator<=>(const SmallVector& a, const SmallVector& b) {
    return std::lexicographical_compare_three_way(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  bool on_heap() const noexcept { return data_ != inline_data(); }
  T* inline_data() noexcept { return std::launder(reinterpret_cast<T*>(inline_)); }
  const T* inline_data() const noexcept { return std::launder(reinterpret_cast<const T*>(inline_)); }
  size_type index(const_iterator pos) const noexcept { return static_cast<size_type>(pos - begin()); }

  template <class It>
  void append(It first, It last) {
    if constexpr (std::forward_iterator<It>) reserve(size_ + static_cast<size_type>(std::distance(first, last)));
    for (; first != last; ++first) emplace_back(*first);
  }
  template <class Construct>
  void resize_with(size_type n, Construct construct) {
    if (n < size_) {
      std::destroy(begin() + n, end());
      size_ = n;
      return;
    }
    reserve(n);
    for (; size_ < n; ++size_) construct(data_ + size_);
  }
  void grow_to(size_type n) {
    n = std::max(n, 2 * capacity_);
    T* heap = std::allocator<T>().allocate(n);
    std::uninitialized_move(begin(), end(), heap);
    std::destroy(begin(), end());
    free_heap();
    data_ = heap;
    capacity_ = n;
  }
  void free_heap() noexcept {
    if (on_heap()) std::allocator<T>().deallocate(data_, capacity_);
    data_ = inline_data();
    capacity_ = N;
  }
  // Leaves `other` empty (and inline); `this` must be empty and inline.
  void take(SmallVector&& other) noexcept {
    if (other.on_heap()) {
      data_ = other.data_;
      capacity_ = other.capacity_;
      size_ = other.size_;
      other.data_ = other.inline_data();
      other.capacity_ = N;
      other.size_ = 0;
      return;
    }
    std::uninitialized_move(other.begin(), other.end(), data_);
    size_ = other.size_;
    other.clear();
  }

  T* data_ = inline_data();
  size_type size_ = 0;
  size_type capacity_ = N;
  alignas(T) unsigned char inline_[N * sizeof(T)];
};

}  // namespace xgrad
