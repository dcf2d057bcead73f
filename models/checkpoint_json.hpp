// The checked JSON readers behind the checkpoint decoders (checkpoint_format.cpp, checkpoint_plateau.cpp):
// each returns the value or throws FieldError at `at`, a JSON pointer, saying what was found instead.
// Internal to models/; not part of the API.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>

#include "xgrad/models/checkpoint_format.hpp"

namespace xgrad::checkpoint_format {

// What was found instead of the expected value, for messages: the type, and a short rendering of a scalar.
std::string found(const Json& j);
std::string child(const std::string& at, const std::string& key);  // at + "/" + key as a pointer token
std::string child(const std::string& at, std::size_t index);
const Json& member(const Json& object, const std::string& key, const std::string& at);  // must be present
const Json& expect_object(const Json& j, const std::string& at);
const Json& expect_array(const Json& j, const std::string& at);
const std::string& expect_string(const Json& j, const std::string& at);
double expect_finite(const Json& j, const std::string& at);
std::int64_t expect_integer(const Json& j, const std::string& at, std::int64_t min);
// Every key of `object` must be one of `allowed`.
void expect_only(const Json& object, const std::string& at, std::initializer_list<const char*> allowed);

}  // namespace xgrad::checkpoint_format
