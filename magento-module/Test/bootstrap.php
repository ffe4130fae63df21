<?php
/**
 * PHPUnit bootstrap without Magento: autoloads the module's own classes and, from Test/Stub/, stubs
 * of the few Magento types the tested classes use (same names and signatures).
 */
declare(strict_types=1);

spl_autoload_register(static function (string $class): void {
    $roots = [
        'Provenant\\Disclosure\\' => dirname(__DIR__) . '/',
        'Magento\\' => __DIR__ . '/Stub/Magento/',
        'Psr\\' => __DIR__ . '/Stub/Psr/',
    ];
    foreach ($roots as $prefix => $directory) {
        if (strncmp($class, $prefix, strlen($prefix)) === 0) {
            $file = $directory . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
            if (is_file($file)) {
                require $file;
            }
            return;
        }
    }
});
