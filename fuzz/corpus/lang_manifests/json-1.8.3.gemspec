# -*- encoding: utf-8 -*-

Gem::Specification.new do |s|
  s.name = %q{json}
  s.version = "1.8.3"

  s.required_rubygems_version = Gem::Requirement.new(">= 0") if s.respond_to? :required_rubygems_version=
  s.authors = [%q{Florian Frank}]
  s.date = %q{2015-06-01}
  s.license = %q{Ruby}
  s.require_paths = [%q{lib}]
  s.rubygems_version = %q{1.8.11}

  if s.respond_to? :specification_version then
    s.specification_version = 4
  end
end
