#include "filters/compress/compress_config.h"

#include "config/text_util.h"

namespace ringway::filters::compress {

using config::detail::Field;

CompressConfig read_compress_config(const Field& field, const std::string& name) {
  config::detail::MapReader map(field, "in filter " + config::detail::quote(name),
                                {"type", "level", "min_length", "types"});
  CompressConfig out;
  if (const Field* f = map.find("level")) out.level = static_cast<int>(config::detail::get_int(*f, 1, 9));
  if (const Field* f = map.find("min_length"))
    out.min_length = config::detail::get_size(*f, 0, uint64_t{1} << 30);
  if (const Field* f = map.find("types")) {
    TypeList types;
    for (const Field& item : config::detail::list_elements(*f, true, "a list of content types")) {
      std::string text = config::detail::get_nonempty_string(item);
      auto entry = TypeList::normalize(text);
      if (!entry)
        item.fail("invalid content type " + config::detail::quote(text) +
                  " (expected type/subtype, type/* or */*, without parameters)");
      types.add(std::move(*entry));
    }
    out.types = std::move(types);
  }
  return out;
}

}  // namespace ringway::filters::compress
